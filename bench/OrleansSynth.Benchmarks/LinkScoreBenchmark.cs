using System.Diagnostics;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Runtime;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// Link scores compared on the planted benchmark's copies and unseen images, each calibrated on the audit's calibration
/// half: the encoder's plain nearest similarity, and scores corrected for how crowded the neighbourhood is (CSLS-like:
/// a training record with many look-alikes needs a closer match to count), alone and in union with the plain score.
/// The variants that lost stay listed so the comparison can be rerun.
/// </summary>
public static class LinkScoreBenchmark
{
    public static void Run(int copies, int unseen, string cache, int verifierSteps)
    {
        var clock = Stopwatch.StartNew();
        var training = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Train);
        var heldOut = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Test);
        var settings =
            verifierSteps > 0
                ? new AuditSettings { Verifier = new PairVerifierConfig { Steps = verifierSteps } }
                : new AuditSettings();
        using var reference = AuditPreparation.Prepare(
            training,
            heldOut,
            new ReidentificationEncoderConfig(),
            settings,
            cache,
            ComputeDevice.Select(),
            log: Console.WriteLine
        );
        var (calibration, _) = PatientSplitter.Split(heldOut, 0.5, seed: 41, "calibration", "control");

        var random = new Random(2026);
        var copySet = new List<byte>();
        var sources = new int[copies];
        for (var i = 0; i < copies; i++)
        {
            sources[i] = random.Next(training.Count);
            copySet.AddRange(HandMadeNearCopy.Make(training.ImageAt(sources[i]).ToArray(), random));
        }
        var control = reference.Control;
        var unseenPositions = Enumerable
            .Range(0, Math.Min(unseen, control.Count))
            .Select(_ => random.Next(control.Count))
            .ToArray();
        var copiesData = new ImageDataset(
            "copies",
            [.. copySet],
            1,
            28,
            28,
            new long[copies],
            Enumerable.Range(0, copies).Select(i => $"c{i}").ToArray(),
            numClasses: 10
        );
        var unseenData = control.Subset(unseenPositions, "unseen");

        using var trainingTensor = reference.TrainingEmbeddings.ToTensor();
        var mirroredTraining = new Lazy<ImageDataset>(() => Mirror(training));
        Console.WriteLine($"prepared in {clock.Elapsed.TotalSeconds:F0} s");

        var sets = new[]
        {
            ("calibration", calibration, true),
            ("copies", copiesData, false),
            ("unseen", unseenData, false),
        };
        var scores = new Dictionary<string, Dictionary<string, float[]>>();
        foreach (var (name, data, isCalibration) in sets)
        {
            using var scope = NewDisposeScope();
            var q = reference.Embed(data);
            var s = q.mm(trainingTensor.t());
            var (top, idx) = s.topk(100, 1);
            var top1 = top[.., 0];
            var nearest = idx[.., 0];
            var variants = new Dictionary<string, Tensor> { ["plain"] = top1 };
            foreach (var n in new[] { 3, 5, 10, 20, 50, 100 })
            {
                var others = top.narrow(1, 1, n - 1);
                var mean = others.mean([1]);
                variants[$"z-mean-{n}"] = (top1 - mean) / mean.SubtractedFrom(1.0001f);
                variants[$"z-std-{n}"] = (top1 - mean) / others.std(1).Plus(1e-4f);
                var incl = top.narrow(1, 0, n).mean([1]);
                variants[$"contrast-{n}"] = (top1 - incl) / incl.SubtractedFrom(1.0001f);
                variants[$"plain+gap-{n}"] = top1.Plus(top1 - incl);
                var kth = top[.., n - 1];
                variants[$"kth-{n}"] = (top1 - kth) / kth.SubtractedFrom(1.0001f);
            }
            if (reference.Verifier is { } verifier)
            {
                // The verifier's logit for the nearest three records: alone, and how far the nearest stands out from
                // the others.
                var indices = idx.narrow(1, 0, 3).contiguous().data<long>().ToArray();
                var v = Enumerable
                    .Range(0, 3)
                    .Select(j =>
                        verifier.Scores(
                            data,
                            training,
                            Enumerable.Range(0, data.Count).Select(i => (int)indices[i * 3 + j]).ToArray()
                        )
                    )
                    .ToArray();
                var v0 = tensor(v[0]);
                variants["verifier"] = v0;
                variants["verifier-margin"] = v0 - tensor(v[1]).maximum(tensor(v[2]));
                variants["verifier-contrast"] = v0 - v0.Plus(tensor(v[1])).Plus(tensor(v[2])).DividedBy(3);
                // Any of the nearest three judged a copy: catches copies whose source the encoder ranks second or
                // third.
                variants["verifier-max3"] = v0.maximum(tensor(v[1])).maximum(tensor(v[2]));
                // Both images mirrored, the logits averaged: a second view of the same pair.
                var nearestRecords = Enumerable.Range(0, data.Count).Select(i => (int)indices[i * 3]).ToArray();
                var mirrored = verifier.Scores(Mirror(data), mirroredTraining.Value, nearestRecords);
                variants["verifier-mirror"] = v0.Plus(tensor(mirrored)).DividedBy(2);
            }
            if (name == "copies")
                PrintMisses(reference.Model.Link, top, idx, sources);
            var keep = Enumerable.Range(0, data.Count).ToArray();
            if (isCalibration)
            {
                // The audit's rule: held-out images within the near-copy tolerance of their nearest training record are
                // not unseen people.
                var nn = nearest.data<long>().ToArray();
                keep = keep.Where(i =>
                        AuditReference.PixelDifference(data.ImageAt(i), training.ImageAt((int)nn[i]))
                        > settings.NearCopyTolerance
                    )
                    .ToArray();
            }
            scores[name] = variants.ToDictionary(
                v => v.Key,
                v =>
                {
                    var all = v.Value.data<float>().ToArray();
                    return keep.Select(i => all[i]).ToArray();
                }
            );
        }
        // Unions (the audit's LinkRule is plain + contrast-3): each score as its rank among the calibration scores, the
        // larger of two ranks.
        foreach (
            var (a, b) in new[]
            {
                ("plain", "contrast-3"),
                ("plain", "contrast-5"),
                ("plain", "contrast-10"),
                ("plain-or-contrast-3", "verifier"),
                ("plain-or-contrast-3", "verifier-margin"),
                ("verifier", "verifier-margin"),
                ("plain-or-contrast-3", "verifier-contrast"),
                ("verifier", "verifier-max3"),
            }
        )
        {
            var ca = scores["calibration"][a].OrderBy(x => x).ToArray();
            var cb = scores["calibration"][b].OrderBy(x => x).ToArray();
            double Rank(float[] sorted, float x)
            {
                var i = Array.BinarySearch(sorted, x);
                if (i < 0)
                    i = ~i;
                return (double)i / sorted.Length;
            }
            foreach (var set in scores.Keys)
                scores[set][$"{a}-or-{b}"] = scores[set]
                    [a]
                    .Zip(scores[set][b], (x, y) => (float)Math.Max(Rank(ca, x), Rank(cb, y)))
                    .ToArray();
        }
        foreach (var variant in scores["calibration"].Keys)
        foreach (var alpha in new[] { 0.01, 0.02 })
        {
            var sorted = scores["calibration"][variant].OrderBy(x => x).ToArray();
            var threshold = sorted[(int)Math.Ceiling((1 - alpha) * sorted.Length) - 1];
            var recall = scores["copies"][variant].Count(x => x > threshold) / (double)copies;
            var fpr = scores["unseen"][variant].Count(x => x > threshold) / (double)unseenData.Count;
            Console.WriteLine(
                $"{variant, -12} alpha {alpha:P0}: copies {recall:P1}, unseen flagged {fpr:P1} (threshold "
                    + $"{threshold:F4})"
            );
        }
        Console.WriteLine($"total {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>Every image flipped left to right.</summary>
    private static ImageDataset Mirror(ImageDataset data)
    {
        var pixels = new byte[data.Count * data.ImageBytes];
        for (var i = 0; i < data.Count; i++)
        {
            var image = data.ImageAt(i);
            var target = pixels.AsSpan(i * data.ImageBytes, data.ImageBytes);
            for (var row = 0; row < data.Channels * data.Height; row++)
            for (var x = 0; x < data.Width; x++)
                target[row * data.Width + x] = image[row * data.Width + data.Width - 1 - x];
        }
        return new ImageDataset(
            data.Name + "-mirrored",
            pixels,
            data.Channels,
            data.Height,
            data.Width,
            new long[data.Count],
            [.. Enumerable.Range(0, data.Count).Select(i => $"m{i}")],
            numClasses: data.NumClasses
        );
    }

    /// <summary>Where the link rule's misses are: is the copy's source the nearest record at all?</summary>
    private static void PrintMisses(LinkRule rule, Tensor top, Tensor indices, int[] sources)
    {
        using var scope = NewDisposeScope();
        var isSource = indices == tensor(sources.Select(x => (long)x).ToArray()).unsqueeze(1);
        var rank = isSource.to_type(ScalarType.Int32).argmax(1).data<long>().ToArray();
        var found = isSource.any(1).data<bool>().ToArray();
        var linked = Enumerable
            .Range(0, sources.Length)
            .Select(i =>
                rule.Links(top[i, 0].item<float>(), LinkRule.Contrast(top[i].data<float>().ToArray(), rule.Neighbours))
            )
            .ToArray();
        int Count(Func<int, bool> f) => Enumerable.Range(0, sources.Length).Count(f);
        Console.WriteLine(
            $"copies: source nearest {Count(i => found[i] && rank[i] == 0)}, 2nd-10th "
                + $"{Count(i => found[i] && rank[i] is > 0 and < 10)}, further {Count(i => !found[i] || rank[i] >= 10)}"
        );
        Console.WriteLine(
            $"missed by the audit's link rule: {Count(i => !linked[i])}; of them source nearest "
                + $"{Count(i => !linked[i] && found[i] && rank[i] == 0)}"
        );
    }
}
