using OrleansSynth.ML.Data;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Audits a synthetic image set against the real training records: the tiled top-k scan, the calibrated
/// verdict per sample, and the aggregate privacy metrics of the report.
/// </summary>
public static class PrivacyAuditor
{
    public static AuditReport Audit(
        AuditReference reference,
        ImageDataset synthetic,
        AuditSettings settings,
        Action<int, int>? scanProgress = null
    )
    {
        CheckShapes(reference, synthetic);
        var canaries = PlantCanaries(reference, settings);
        var scanned = synthetic.Append(canaries.Images);
        using var scannedEmbeddings = reference.Embed(scanned);
        using var trainingTensor = reference.TrainingEmbeddings.ToTensor();
        var matches = PairwiseScan.Run(
            scannedEmbeddings,
            trainingTensor,
            KeptPerRow(settings),
            settings.SyntheticTile,
            settings.RealTile,
            scanProgress
        );
        return Report(reference, synthetic, canaries, scannedEmbeddings, matches, settings);
    }

    /// <summary>The audit's canaries: the same for the same training set and settings, so a resumed audit plants the
    /// same ones.</summary>
    public static CanarySet PlantCanaries(AuditReference reference, AuditSettings settings) =>
        CanarySet.Plant(reference.Training, settings.Canaries, settings.CanarySeed);

    /// <summary>Top-k kept per row: at least 2, for the nearest-neighbour distance ratio, and the link rule's
    /// neighbourhood.</summary>
    public static int KeptPerRow(AuditSettings settings) =>
        Math.Max(Math.Max(2, settings.TopK), settings.LinkNeighbours);

    public static void CheckShapes(AuditReference reference, ImageDataset synthetic)
    {
        var training = reference.Training;
        if (synthetic.Count == 0)
            throw new ArgumentException($"{synthetic.Name}: nothing to audit.");
        if (
            synthetic.Channels != training.Channels
            || synthetic.Height != training.Height
            || synthetic.Width != training.Width
        )
            throw new ArgumentException(
                $"{synthetic.Name}: images are {synthetic.Channels}x{synthetic.Height}x{synthetic.Width}, the real "
                    + $"data {training.Channels}x{training.Height}x{training.Width}."
            );
    }

    /// <summary>
    /// The report from a finished scan: <paramref name="matches"/> holds the top-k training records of every scanned
    /// row (the synthetic samples, then the canaries), however it was computed (in-process or tile by tile across a
    /// cluster). Canaries count only towards the audit's recall; they are never samples of the report.
    /// </summary>
    public static AuditReport Report(
        AuditReference reference,
        ImageDataset synthetic,
        CanarySet canaries,
        Tensor scannedEmbeddings,
        TopKMatches matches,
        AuditSettings settings
    )
    {
        if (matches.Rows != synthetic.Count + canaries.Count)
            throw new ArgumentException(
                $"The scan has {matches.Rows} rows; {synthetic.Count} samples and {canaries.Count} canaries were "
                    + $"expected."
            );
        var training = reference.Training;
        var threshold = reference.Model.Calibration.Threshold;
        var k = matches.K;
        using var trainingTensor = reference.TrainingEmbeddings.ToTensor();
        using var controlTensor = reference.ControlEmbeddings.ToTensor();
        using var syntheticEmbeddings = scannedEmbeddings.narrow(0, 0, synthetic.Count);
        var controlMatches = PairwiseScan.Run(
            controlTensor,
            trainingTensor,
            k,
            settings.SyntheticTile,
            settings.RealTile
        );

        // Every scanned row (samples, then canaries) judged by one rule: the verifier on its nearest record, or the
        // encoder alone.
        var rows = Enumerable.Range(0, matches.Rows).ToArray();
        var (flagged, verifierScores) = reference.Verdicts(
            synthetic.Append(canaries.Images),
            rows.Select(matches.BestIndex).ToArray(),
            rows.Select(matches.BestScore).ToArray(),
            rows.Select(r => LinkRule.Contrast(matches.RowScores(r), reference.Model.Link.Neighbours)).ToArray()
        );
        var samples = new SampleVerdict[synthetic.Count];
        for (var i = 0; i < synthetic.Count; i++)
        {
            var ids = Enumerable
                .Range(0, settings.TopK)
                .Select(s => reference.TrainingEmbeddings.RecordIds[matches.RealIndices[i * k + s]])
                .ToArray();
            var scores = matches.Scores.AsSpan(i * k, settings.TopK).ToArray();
            samples[i] = new SampleVerdict(
                synthetic.RecordIds[i],
                flagged[i],
                scores[0],
                ids[0],
                ids,
                scores,
                verifierScores?[i]
            );
        }
        var caught = 0;
        var linked = 0;
        for (var c = 0; c < canaries.Count; c++)
        {
            var row = synthetic.Count + c;
            if (!flagged[row])
                continue;
            caught++;
            if (matches.BestIndex(row) == canaries.SourceIndices[c])
                linked++;
        }

        var flaggedCount = samples.Count(s => s.Flagged);
        var rate = Proportion.Wilson(flaggedCount, samples.Length);
        var calibration = reference.Model.Calibration;
        var summary = new AuditSummary(
            samples.Length,
            flaggedCount,
            rate.Rate,
            rate.Lower,
            rate.Upper,
            threshold,
            calibration.Alpha,
            reference.Model.Info.VerificationAuc,
            calibration.HeldOutCount,
            training.Count,
            reference.Control.Count,
            training.Name,
            synthetic.Name,
            CanaryRecall.From(canaries.Count, caught, linked),
            reference.Verifier?.Calibration.Threshold,
            reference.HeldOutNearCopies,
            reference.Verifier is null ? reference.Model.Link : null
        );

        var (exact, nearExact) = CountCopies(synthetic, training, matches, reference.NearCopyTolerance);
        var metrics = new AuditMetrics(
            Distribution.Of(Best(matches, synthetic.Count), -1, 1),
            Distribution.Of(Best(controlMatches, reference.Control.Count), -1, 1),
            Distribution.Of(Distances(matches, synthetic.Count, 0), 0, 2),
            Distribution.Of(Distances(controlMatches, reference.Control.Count, 0), 0, 2),
            Distribution.Of(Ratios(matches, synthetic.Count), 0, 1),
            Distribution.Of(Ratios(controlMatches, reference.Control.Count), 0, 1),
            SinglingOutAttack.Run(
                matches,
                synthetic.Count,
                training.Count,
                syntheticEmbeddings,
                controlTensor,
                threshold
            ),
            HoldoutDistanceTest.Run(syntheticEmbeddings, trainingTensor, controlTensor),
            exact,
            nearExact,
            reference.NearCopyTolerance
        );
        return new AuditReport(summary, metrics, samples);
    }

    private static (int Exact, int NearExact) CountCopies(
        ImageDataset synthetic,
        ImageDataset training,
        TopKMatches matches,
        double tolerance
    )
    {
        var (exact, near) = (0, 0);
        for (var i = 0; i < synthetic.Count; i++)
        {
            var difference = AuditReference.PixelDifference(
                synthetic.ImageAt(i),
                training.ImageAt(matches.BestIndex(i))
            );
            if (difference == 0)
                exact++;
            if (difference <= tolerance)
                near++;
        }
        return (exact, near);
    }

    private static double[] Best(TopKMatches matches, int rows) =>
        Enumerable.Range(0, rows).Select(i => (double)matches.BestScore(i)).ToArray();

    private static double Distance(float similarity) => Math.Sqrt(Math.Max(0, 2 - 2 * similarity));

    private static double[] Distances(TopKMatches matches, int rows, int slot) =>
        Enumerable.Range(0, rows).Select(i => Distance(matches.Scores[i * matches.K + slot])).ToArray();

    private static double[] Ratios(TopKMatches matches, int rows) =>
        Enumerable
            .Range(0, rows)
            .Select(i =>
            {
                var second = Distance(matches.Scores[i * matches.K + 1]);
                return second == 0 ? 1.0 : Distance(matches.Scores[i * matches.K]) / second;
            })
            .ToArray();
}
