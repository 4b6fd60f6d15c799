using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Data;

/// <summary>
/// An in-memory image set: pixels as bytes [N,C,H,W] (in chunks, so it may exceed 2 GiB), a label and a stable record
/// id per image, and a patient id and a report where the source has them.
/// </summary>
public sealed class ImageDataset
{
    // Static: a temporary Scalar can be freed by its finalizer mid-call (see Runtime.TensorArithmetic).
    private static readonly Scalar HalfByteRange = 127.5;

    public ImageDataset(
        string name,
        byte[] pixels,
        int channels,
        int height,
        int width,
        long[] labels,
        string[] recordIds,
        string?[]? patientIds = null,
        int? numClasses = null
    )
        : this(
            name,
            ImagePixels.Wrap(pixels, Math.Max(1, channels * height * width)),
            channels,
            height,
            width,
            labels,
            recordIds,
            patientIds,
            numClasses
        ) { }

    public ImageDataset(
        string name,
        ImagePixels pixels,
        int channels,
        int height,
        int width,
        long[] labels,
        string[] recordIds,
        string?[]? patientIds = null,
        int? numClasses = null
    )
    {
        var count = labels.Length;
        if (pixels.ImageBytes != channels * height * width || pixels.Count != count)
            throw new ArgumentException(
                $"{name}: {pixels.Length} pixel bytes do not match {count} images of {channels}x{height}x{width}."
            );
        if (recordIds.Length != count)
            throw new ArgumentException($"{name}: {recordIds.Length} record ids for {count} images.");
        if (Array.FindIndex(labels, l => l < 0 || l >= MaxClasses) is var bad and >= 0)
            throw new ArgumentException(
                $"{name}: label {labels[bad]} of image {bad} is not a class number from 0 to {MaxClasses - 1}."
            );
        if (patientIds is not null && patientIds.Length != count)
            throw new ArgumentException($"{name}: {patientIds.Length} patient ids for {count} images.");
        Name = name;
        Pixels = pixels;
        Channels = channels;
        Height = height;
        Width = width;
        Labels = labels;
        RecordIds = recordIds;
        PatientIds = patientIds;
        NumClasses = numClasses ?? (count == 0 ? 0 : (int)labels.Max() + 1);
    }

    /// <summary>More classes than this is taken for a corrupt label column, not a dataset.</summary>
    public const int MaxClasses = 10_000;

    public string Name { get; }
    public ImagePixels Pixels { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public long[] Labels { get; }
    public string[] RecordIds { get; }
    public string?[]? PatientIds { get; }
    public int NumClasses { get; }

    /// <summary>The text beside each image (a radiology report, a caption), where the source has it; null entries
    /// are images without one. Real reports never leave the silos: only prompts a user writes are shareable.</summary>
    public string?[]? Reports
    {
        get => _reports;
        init =>
            _reports =
                value is null || value.Length == Labels.Length
                    ? value
                    : throw new ArgumentException($"{Name}: {value.Length} reports for {Labels.Length} images.");
    }

    private readonly string?[]? _reports;

    public bool HasReports => Reports is not null && Reports.Any(r => !string.IsNullOrEmpty(r));
    public int Count => Labels.Length;
    public int ImageBytes => Channels * Height * Width;
    public bool HasPatientIds => PatientIds is not null && PatientIds.All(p => !string.IsNullOrEmpty(p));

    /// <summary>Images at <paramref name="indices"/> as float [B,C,H,W] in [-1, 1], and their labels.</summary>
    public (Tensor Images, Tensor Labels) Batch(IReadOnlyList<int> indices, Device? device = null)
    {
        var bytes = new byte[indices.Count * ImageBytes];
        var labels = new long[indices.Count];
        for (var i = 0; i < indices.Count; i++)
        {
            Pixels.Image(indices[i]).CopyTo(bytes.AsSpan(i * ImageBytes));
            labels[i] = Labels[indices[i]];
        }
        using var raw = tensor(bytes, [indices.Count, Channels, Height, Width]);
        var images = raw.to_type(float32).div_(HalfByteRange).sub_(TensorArithmetic.One);
        return (device is null ? images : images.to(device), tensor(labels, device: device));
    }

    /// <summary>The raw bytes of one image, [C,H,W] row-major.</summary>
    public ReadOnlySpan<byte> ImageAt(int index) => Pixels.Image(index);

    /// <summary>A new dataset holding the images at <paramref name="indices"/>, in that order.</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices, string? name = null)
    {
        var pixels = ImagePixels.Allocate(indices.Count, ImageBytes);
        for (var i = 0; i < indices.Count; i++)
            Pixels.Image(indices[i]).CopyTo(pixels.Image(i));
        return new ImageDataset(
            name ?? Name,
            pixels,
            Channels,
            Height,
            Width,
            indices.Select(i => Labels[i]).ToArray(),
            indices.Select(i => RecordIds[i]).ToArray(),
            PatientIds is null ? null : indices.Select(i => PatientIds[i]).ToArray(),
            NumClasses
        )
        {
            Reports = Reports is null ? null : indices.Select(i => Reports[i]).ToArray(),
        };
    }

    /// <summary>This dataset followed by <paramref name="other"/>'s images (same shape); patient ids are
    /// dropped.</summary>
    public ImageDataset Append(ImageDataset other, string? name = null)
    {
        if (other.Channels != Channels || other.Height != Height || other.Width != Width)
            throw new ArgumentException(
                $"{other.Name}: images are {other.Channels}x{other.Height}x{other.Width}, {Name}'s "
                    + $"{Channels}x{Height}x{Width}."
            );
        return new ImageDataset(
            name ?? Name,
            ImagePixels.Concat([Pixels, other.Pixels]),
            Channels,
            Height,
            Width,
            [.. Labels, .. other.Labels],
            [.. RecordIds, .. other.RecordIds],
            numClasses: Math.Max(NumClasses, other.NumClasses)
        )
        {
            Reports =
                Reports is null && other.Reports is null
                    ? null
                    : [.. Reports ?? new string?[Count], .. other.Reports ?? new string?[other.Count]],
        };
    }

    /// <summary>The records whose ids are in <paramref name="keep"/>, in this dataset's order; every id must be
    /// present.</summary>
    public ImageDataset WithRecordIds(IReadOnlyCollection<string> keep, string? name = null)
    {
        var wanted = keep.ToHashSet(StringComparer.Ordinal);
        var indices = Enumerable.Range(0, Count).Where(i => wanted.Contains(RecordIds[i])).ToArray();
        if (indices.Length != wanted.Count)
            throw new InvalidDataException(
                $"{wanted.Count - indices.Length} of the requested records are not in {Name}."
            );
        return Subset(indices, name);
    }

    /// <summary>How many images carry each label, indexed by label.</summary>
    public int[] LabelCounts()
    {
        var counts = new int[NumClasses];
        foreach (var label in Labels)
            counts[label]++;
        return counts;
    }
}
