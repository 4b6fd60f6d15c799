using System.Runtime.InteropServices;
using StbImageSharp;

namespace OrleansSynth.ML.Imaging;

/// <summary>
/// 16-bit PNGs, which SkiaSharp decodes to 8 bits by dropping the low byte (a 12-bit image would come out nearly
/// black): decoded with StbImageSharp's 16-bit path, alpha dropped, then each image mapped to 8 bits between its own
/// 0.5th and 99.5th percentiles (<see cref="IntensityWindow"/>).
/// </summary>
public static class DeepPng
{
    /// <summary>Whether the file is a PNG of 16 bits per sample (its IHDR's bit depth).</summary>
    public static bool IsSixteenBit(string path)
    {
        Span<byte> head = stackalloc byte[26];
        using var file = File.OpenRead(path);
        if (file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length)
            return false;
        return head[..8]
                .SequenceEqual((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a])
            && head[12..16].SequenceEqual("IHDR"u8)
            && head[24] == 16;
    }

    public static unsafe PngImage Read(string path)
    {
        using var file = File.OpenRead(path);
        var header = ImageInfo.FromStream(file) ?? throw new InvalidDataException($"{path}: not a readable PNG.");
        // The header's size, checked before any pixel is decoded.
        if (PngImage.RefusedSize(header.Width, header.Height) is { } tooLarge)
            throw new InvalidDataException($"{path}: the image {tooLarge}");
        file.Position = 0;
        int width,
            height,
            components;
        var data = StbImage.stbi__load_and_postprocess_16bit(
            new StbImage.stbi__context(file),
            &width,
            &height,
            &components,
            0
        );
        if (data is null)
            throw new InvalidDataException($"{path}: the 16-bit PNG could not be decoded.");
        try
        {
            var samples = new ReadOnlySpan<ushort>(data, width * height * components);
            // Grey+alpha and RGBA lose their alpha; colour whose samples are all grey is grey.
            var colour = components >= 3 && !IsGrey(samples, components);
            var channels = colour ? 3 : 1;
            var plane = width * height;
            var values = new double[channels * plane];
            for (var p = 0; p < plane; p++)
            for (var c = 0; c < channels; c++)
                values[c * plane + p] = samples[p * components + c];
            var pixels = IntensityWindow.Percentiles(values).Apply(values);
            return new PngImage(pixels, channels, height, width);
        }
        finally
        {
            // StbImageSharp allocates with Marshal.AllocHGlobal.
            Marshal.FreeHGlobal((IntPtr)data);
        }
    }

    private static bool IsGrey(ReadOnlySpan<ushort> samples, int components)
    {
        for (var i = 0; i + 2 < samples.Length; i += components)
            if (samples[i] != samples[i + 1] || samples[i] != samples[i + 2])
                return false;
        return true;
    }
}
