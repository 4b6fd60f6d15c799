using System.Diagnostics;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Runtime;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// How many held-out images are already near-copies of a training record: for each test image its nearest training
/// image in pixels (Euclidean), and their mean absolute difference. The audit calibrates its threshold on half of the
/// held-out split as "people it never saw"; a near-copy there uses up one of the false flags alpha allows.
/// </summary>
public static class HeldOutCopiesBenchmark
{
    public static void Run(string dataset, double alpha)
    {
        var clock = Stopwatch.StartNew();
        var training = DatasetCatalog.Load(dataset, DatasetSplit.Train);
        var heldOut = DatasetCatalog.Load(dataset, DatasetSplit.Test);
        var difference = NearestDifferences(training, heldOut);
        Console.WriteLine(
            $"{heldOut.Count} held-out against {training.Count} training images in {clock.Elapsed.TotalSeconds:F0} s"
        );
        foreach (var tolerance in new[] { 0.005, 0.01, 0.02, 0.03 })
        {
            var copies = difference.Count(d => d <= tolerance);
            Console.WriteLine(
                $"within a mean absolute difference of {tolerance:P1} of their nearest training image: {copies} = "
                    + $"{(double)copies / heldOut.Count:P2}"
            );
        }
        // The audit's own split (AuditPreparation): which of the calibration half are near-copies at its tolerance.
        var (calibration, _) = PatientSplitter.Split(heldOut, 0.5, seed: 41, "calibration", "control");
        var positions = heldOut.RecordIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        var tolerated = new AuditSettings().NearCopyTolerance;
        var inCalibration = calibration.RecordIds.Count(id => difference[positions[id]] <= tolerated);
        Console.WriteLine(
            $"calibration half: {calibration.Count} images, {inCalibration} of them within the audit's near-copy "
                + $"tolerance ({tolerated:P0}); "
                + $"alpha {alpha:P0} allows {(int)Math.Floor(alpha * calibration.Count)} flags"
        );
    }

    /// <summary>
    /// The audit's pixel difference (<see cref="AuditReference.PixelDifference"/>) between each query image and its
    /// nearest reference image in Euclidean distance.
    /// </summary>
    private static double[] NearestDifferences(ImageDataset reference, ImageDataset queries)
    {
        using var noGrad = no_grad();
        using var real = Flat(reference, 0, reference.Count);
        using var realNorms = real.Squared().sum(1);
        var nearest = new long[queries.Count];
        const int chunk = 500;
        for (var start = 0; start < queries.Count; start += chunk)
        {
            using var scope = NewDisposeScope();
            var q = Flat(queries, start, Math.Min(chunk, queries.Count - start));
            // |q - r|^2 without the |q|^2 term, which does not change the argmin.
            (realNorms.unsqueeze(0) - q.mm(real.t()).Times(2)).argmin(1).data<long>().CopyTo(nearest, start);
        }
        return nearest
            .Select((r, i) => AuditReference.PixelDifference(queries.ImageAt(i), reference.ImageAt((int)r)))
            .ToArray();
    }

    private static Tensor Flat(ImageDataset data, int start, int count)
    {
        var (images, labels) = data.Batch(Enumerable.Range(start, count).ToArray());
        labels.Dispose();
        using (images)
            return images.view(count, -1);
    }
}
