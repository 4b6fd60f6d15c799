namespace OrleansSynth.ML.Imaging;

/// <summary>
/// Maps deep intensities (12 to 16 bits, rescaled DICOM values, floats) to the model's 8 bits: a window [low, high]
/// becomes 0..255 linearly, values outside are clipped. The window is the file's own (DICOM window centre and width)
/// or the image's percentiles.
/// </summary>
public readonly record struct IntensityWindow(double Low, double High)
{
    public const double DefaultLowPercentile = 0.5;
    public const double DefaultHighPercentile = 99.5;

    /// <summary>DICOM's window centre and width as a range (the linear VOI function's end points).</summary>
    public static IntensityWindow FromCentreAndWidth(double centre, double width) =>
        new(centre - width / 2, centre + width / 2);

    /// <summary>The values' low and high percentiles (nearest rank).</summary>
    public static IntensityWindow Percentiles(
        ReadOnlySpan<double> values,
        double low = DefaultLowPercentile,
        double high = DefaultHighPercentile
    )
    {
        if (values.IsEmpty)
            return new(0, 0);
        var sorted = values.ToArray();
        Array.Sort(sorted);
        double At(double percentile) =>
            sorted[Math.Clamp((int)Math.Round(percentile / 100 * (sorted.Length - 1)), 0, sorted.Length - 1)];
        return new(At(low), At(high));
    }

    /// <summary>8-bit pixels; <paramref name="invert"/> for MONOCHROME1, where the highest value is black.</summary>
    public byte[] Apply(ReadOnlySpan<double> values, bool invert = false)
    {
        var pixels = new byte[values.Length];
        var width = High - Low;
        for (var i = 0; i < values.Length; i++)
        {
            // A flat window (a constant image) maps everything to black rather than dividing by zero.
            var level = width > 0 ? Math.Clamp(Math.Round((values[i] - Low) / width * 255), 0, 255) : 0;
            pixels[i] = (byte)(invert ? 255 - level : level);
        }
        return pixels;
    }
}
