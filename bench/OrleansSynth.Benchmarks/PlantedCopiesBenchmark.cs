using System.Diagnostics;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Runtime;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// The audit's recall on compound near-copies, on the whole of a dataset (Fashion-MNIST unless asked): copies of
/// random training records made by <see cref="HandMadeNearCopy"/> (not the audit's own perturbation code) and real
/// images nobody trained on, from the control half of the held-out split (never used to set the threshold). Prints
/// recall and false flags with their 95% intervals, and the audit's own canary recall, so the two can be compared.
/// </summary>
public static class PlantedCopiesBenchmark
{
    /// <param name="verifierSteps">Pair-verifier training steps; 0: verdicts by the encoder's similarity alone.</param>
    /// <param name="verifierBatch">Pairs per verifier training batch (null: the default).</param>
    /// <param name="verifierLearningRate">The verifier's peak learning rate (null: the default).</param>
    /// <param name="lookAlikes">How many of each record's nearest others its negatives are drawn among (null: the
    /// default).</param>
    /// <param name="verifierBFloat16">The verifier's convolutions in bfloat16 or not (null: where the CPU multiplies
    /// bfloat16 natively, as for users).</param>
    public static void Run(
        int copies,
        int unseen,
        int encoderSteps,
        string cache,
        double alpha,
        int verifierSteps,
        int? verifierBatch = null,
        double? verifierLearningRate = null,
        int? records = null,
        string dataset = "fashion-mnist",
        int? lookAlikes = null,
        bool? verifierBFloat16 = null
    )
    {
        var clock = Stopwatch.StartNew();
        // Sparse images (mostly black, as digits): where a fixed pixel tolerance would call distinct people copies.
        // "thumbnails" shrinks Fashion-MNIST's garments to make them; any other name or path is loaded as it is.
        var name = dataset == "thumbnails" ? "fashion-mnist" : dataset;
        var training = DatasetCatalog.Load(name, DatasetSplit.Train);
        // The hand-made copies are 28 x 28 grey images.
        if (training is not { Channels: 1, Height: 28, Width: 28 })
            throw new ArgumentException(
                $"{dataset}: images are {training.Channels}x{training.Height}x{training.Width}; the planted copies "
                    + "are made for 1x28x28."
            );
        if (records is { } slice)
            training = training.Subset(
                Enumerable.Range(0, Math.Min(slice, training.Count)).ToArray(),
                $"{name}/train-{slice}"
            );
        var heldOut = DatasetCatalog.Load(name, DatasetSplit.Test);
        if (dataset == "thumbnails")
            (training, heldOut) = (SparseThumbnails.Of(training), SparseThumbnails.Of(heldOut));
        var config = new ReidentificationEncoderConfig { Steps = encoderSteps };
        var verifier = new PairVerifierConfig { Steps = verifierSteps };
        if (verifierBatch is { } batch)
            verifier = verifier with { BatchSize = batch };
        if (verifierLearningRate is { } rate)
            verifier = verifier with { LearningRate = rate };
        if (lookAlikes is { } k)
            verifier = verifier with { LookAlikeNeighbours = k };
        verifier = verifier with { BFloat16 = verifierBFloat16 };
        var settings = new AuditSettings { Alpha = alpha, Verifier = verifier };
        using var reference = AuditPreparation.Prepare(
            training,
            heldOut,
            config,
            settings,
            cache,
            ComputeDevice.Select(),
            log: line => Console.WriteLine($"[{clock.Elapsed.TotalSeconds:F0} s] {line}"),
            progress: (model, p) =>
            {
                if (p.Step % 200 == 0)
                    Console.WriteLine($"{model}: step {p.Step}/{p.TotalSteps} loss {p.Loss:F3}");
            }
        );
        Console.WriteLine($"prepared in {clock.Elapsed.TotalSeconds:F0} s");

        var random = new Random(2026);
        var pixels = new List<byte>();
        var ids = new List<string>();
        var sources = new string[copies];
        for (var i = 0; i < copies; i++)
        {
            var source = random.Next(training.Count);
            sources[i] = training.RecordIds[source];
            pixels.AddRange(HandMadeNearCopy.Make(training.ImageAt(source).ToArray(), random));
            ids.Add($"copy-{i:D5}");
        }
        // The whole control half, the held-out split's own near-copies included: a flag on any of them is a false flag.
        var (_, control) = AuditPreparation.SplitHeldOut(heldOut);
        // Drawn without repeats: with the whole control asked for, the false-flag rate is measured on every unseen
        // image once.
        var unseenPositions = Enumerable.Range(0, control.Count).ToArray();
        random.Shuffle(unseenPositions);
        for (var i = 0; i < Math.Min(unseen, control.Count); i++)
        {
            pixels.AddRange(control.ImageAt(unseenPositions[i]).ToArray());
            ids.Add($"unseen-{i:D5}");
        }
        var synthetic = new ImageDataset(
            "planted",
            [.. pixels],
            1,
            training.Height,
            training.Width,
            new long[ids.Count],
            [.. ids],
            numClasses: training.NumClasses
        );
        var scan = Stopwatch.StartNew();
        var report = PrivacyAuditor.Audit(reference, synthetic, settings);
        var caught = Proportion.Wilson(report.Samples.Count(s => s.Flagged && s.File.StartsWith("copy-")), copies);
        var falseFlags = Proportion.Wilson(
            report.Samples.Count(s => s.Flagged && s.File.StartsWith("unseen-")),
            ids.Count - copies
        );
        var c = report.Summary.Canaries;
        Console.WriteLine(
            $"threshold {report.Summary.Threshold:F4} at alpha {report.Summary.Alpha} "
                + $"({report.Summary.CalibrationImages} calibration images; "
                + $"{report.Summary.HeldOutNearCopies} held-out near-copies of training records left out; near-copy "
                + $"tolerance {report.Metrics.NearCopyTolerance:P2}), encoder "
                + $"{encoderSteps} steps, verifier {verifierSteps} steps of {verifier.BatchSize} at "
                + $"{verifier.LearningRate}, AUC {report.Summary.EncoderAuc:F4}; audit "
                + $"{scan.Elapsed.TotalSeconds:F0} s"
        );
        Console.WriteLine(
            $"compound copies flagged: {caught.Successes}/{caught.Trials} = {caught.Rate:P1} (95% CI "
                + $"{caught.Lower:P1}-{caught.Upper:P1})"
        );
        Console.WriteLine(
            $"unseen real images flagged: {falseFlags.Successes}/{falseFlags.Trials} = {falseFlags.Rate:P1} (95% CI "
                + $"{falseFlags.Lower:P1}-{falseFlags.Upper:P1})"
        );
        var images = report.Samples.ToDictionary(s => s.File, s => s);
        // Where the copies that were missed went wrong: the encoder did not find their source first (retrieval), or
        // the verdict on the right pair was no (verification).
        var copyVerdicts = Enumerable
            .Range(0, copies)
            .Select(i => (Verdict: images[ids[i]], Source: sources[i]))
            .ToList();
        var foundFirst = copyVerdicts.Count(copy => copy.Verdict.NearestRecordId == copy.Source);
        var missedFoundFirst = copyVerdicts.Count(copy =>
            !copy.Verdict.Flagged && copy.Verdict.NearestRecordId == copy.Source
        );
        var missedInTopK = copyVerdicts.Count(copy =>
            !copy.Verdict.Flagged
            && copy.Verdict.NearestRecordId != copy.Source
            && copy.Verdict.NearestRecordIds.Contains(copy.Source)
        );
        Console.WriteLine(
            $"compound copies whose source the encoder found first: {foundFirst}/{copies}; missed copies: "
                + $"{missedFoundFirst} with the source found first (verification), {missedInTopK} with it among the "
                + $"{settings.TopK} nearest but not first, "
                + $"{copies - caught.Successes - missedFoundFirst - missedInTopK} with it further (retrieval)"
        );
        // What a fixed tolerance at the ceiling would have flagged among them by pixels alone.
        var position = training.RecordIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        var withinCeiling = Enumerable
            .Range(0, ids.Count - copies)
            .Count(i =>
                AuditReference.PixelDifference(
                    synthetic.ImageAt(copies + i),
                    training.ImageAt(position[images[ids[copies + i]].NearestRecordId])
                ) <= settings.NearCopyTolerance
            );
        Console.WriteLine(
            $"unseen real images within the ceiling ({settings.NearCopyTolerance:P0}) of their nearest record: "
                + $"{withinCeiling}"
        );
        Console.WriteLine(
            $"canary recall (the audit's own estimate): {c.Caught}/{c.Planted} = {c.Recall:P1} (95% CI "
                + $"{c.Lower:P1}-{c.Upper:P1})"
        );
        Console.WriteLine($"total {clock.Elapsed.TotalSeconds:F0} s");
    }
}
