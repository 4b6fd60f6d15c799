using OrleansSynth.ML.Data;
using OrleansSynth.ML.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Planted near-copies that let an audit measure its own recall: copies of random training records, each with
/// several small changes at once (<see cref="PerturbationRanges.Canary"/>), scanned with the synthetic set. They are
/// never part of the synthetic set: they exist only inside the audit.
/// </summary>
public sealed record CanarySet(ImageDataset Images, int[] SourceIndices)
{
    public const string IdPrefix = "canary-";

    public int Count => SourceIndices.Length;

    public static CanarySet Plant(ImageDataset training, int count, ulong seed, PerturbationRanges? ranges = null)
    {
        if (count < 0)
            throw new ArgumentOutOfRangeException(nameof(count), "The canary count must not be negative.");
        count = Math.Min(count, training.Count);
        var order = Enumerable.Range(0, training.Count).ToArray();
        new Random(unchecked((int)seed)).Shuffle(order);
        var sources = order[..count];
        var pixels = new byte[count * training.ImageBytes];
        const int batch = 256;
        for (var start = 0; start < count; start += batch)
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator(seed + (ulong)start, CPU);
            var indices = sources[start..Math.Min(count, start + batch)];
            var (images, _) = training.Batch(indices);
            var copies = NearCopyPerturbations.Apply(images, ranges ?? PerturbationRanges.Canary, generator);
            // Back to bytes, as a copy in an image file would be.
            var bytes = ImageTensors.ToBytes(copies);
            bytes.CopyTo(pixels, start * training.ImageBytes);
        }
        var ids = Enumerable.Range(0, count).Select(i => $"{IdPrefix}{i:D5}").ToArray();
        return new CanarySet(
            new ImageDataset(
                $"{training.Name}/canaries",
                pixels,
                training.Channels,
                training.Height,
                training.Width,
                sources.Select(i => training.Labels[i]).ToArray(),
                ids,
                numClasses: training.NumClasses
            ),
            sources
        );
    }
}

/// <summary>How many canaries the audit caught (flagged), with the 95% interval, and how many it linked to their own
/// source record.</summary>
public sealed record CanaryRecall(
    int Planted,
    int Caught,
    double Recall,
    double Lower,
    double Upper,
    int LinkedToSource
)
{
    public static CanaryRecall From(int planted, int caught, int linked)
    {
        var p = Proportion.Wilson(caught, planted);
        return new CanaryRecall(planted, caught, p.Rate, p.Lower, p.Upper, linked);
    }
}
