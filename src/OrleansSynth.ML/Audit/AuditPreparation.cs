using OrleansSynth.ML.Data;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Builds an <see cref="AuditReference"/>: trains the encoder on the training records (or reuses it from the
/// cache folder), measures its verification AUC and calibrates its threshold on one half of the held-out
/// records; then trains the pair verifier on the encoder's look-alikes and calibrates it on the same half; and keeps
/// the other half as the audit's control. The near-copy rule's tolerance is calibrated first (<see
/// cref="NearCopyRule"/>): the held-out images within it are flagged by that rule, so they are left out of the
/// thresholds' calibration and their flags counted against alpha; they are left out of the control too, and counted.
/// Models and embeddings are cached by content. Everything trains and embeds
/// on <c>device</c>, where the returned models stay.
/// </summary>
public static class AuditPreparation
{
    /// <summary>The name <c>progress</c> gives the encoder's training.</summary>
    public const string Encoder = "re-identification encoder";

    /// <summary>The name <c>progress</c> gives the pair verifier's training.</summary>
    public const string Verifier = "pair verifier";

    /// <param name="progress">Told the model in training (<see cref="Encoder"/> or <see cref="Verifier"/>) and how far
    /// it has come; a model from the cache reports nothing.</param>
    public static AuditReference Prepare(
        ImageDataset training,
        ImageDataset heldOut,
        ReidentificationEncoderConfig config,
        AuditSettings settings,
        string cacheFolder,
        Device device,
        Action<string>? log = null,
        Action<string, TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        var (calibration, control) = SplitHeldOut(heldOut);
        if (calibration.Count == 0 || control.Count == 0)
            throw new ArgumentException(
                $"{heldOut.Name}: too few held-out records ({heldOut.Count}) to calibrate and control."
            );

        var key = $"{ReidentificationTrainer.Fingerprint(training)}-{Hash(config)}";
        var modelPath = Path.Combine(cacheFolder, $"reid-{key}.model");
        ReidentificationModel model;
        if (File.Exists(modelPath))
        {
            log?.Invoke($"{Encoder}: cached {modelPath}");
            model = ReidentificationModel.Load(modelPath, device);
        }
        else
        {
            log?.Invoke($"{Encoder}: training on {training.Count} records ({config.Steps} steps)");
            // Checkpointed beside the cache entry, so an interrupted preparation resumes instead of starting over.
            var partial = modelPath + ".partial";
            model = ReidentificationTrainer.Train(
                training,
                config,
                device,
                progress: progress is null ? null : p => progress(Encoder, p),
                cancellationToken: cancellationToken,
                checkpointPath: partial
            );
            model.Save(modelPath);
            File.Delete(partial);
        }

        var trainingEmbeddings = CachedEmbeddings(
            model,
            training,
            Path.Combine(
                cacheFolder,
                $"embeddings-{model.Fingerprint}-{ReidentificationTrainer.Fingerprint(training)}.bin"
            ),
            log
        );
        var calibrationKey =
            $"{ReidentificationTrainer.Fingerprint(calibration)}:{settings.Alpha}:{settings.NearCopyTolerance}:"
            + $"{settings.NearCopyShare}:link{settings.LinkNeighbours}:copies-counted";
        if (model.Info.Calibration is null || model.Info.Link is null || model.Info.CalibrationKey != calibrationKey)
        {
            ReidentificationTrainer.MeasureVerification(model, calibration);
            var (embeddings, nearest, differences) = EmbedAndMeasure(
                model,
                trainingEmbeddings,
                training,
                calibration,
                settings
            );
            embeddings.Dispose();
            var tolerance = NearCopyRule.Calibrate(
                differences,
                settings.NearCopyTolerance,
                settings.Alpha,
                settings.NearCopyShare
            );
            var unseen = Beyond(differences, tolerance);
            var copies = calibration.Count - unseen.Length;
            var scores = unseen.Select(nearest.BestScore).ToArray();
            var contrasts = unseen
                .Select(i => LinkRule.Contrast(nearest.RowScores(i), settings.LinkNeighbours))
                .ToArray();
            model.SetCalibration(
                ThresholdCalibration.FromHeldOutScores(scores, settings.Alpha, training.Count, copies, tolerance),
                LinkRule.Calibrate(scores, contrasts, settings.LinkNeighbours, settings.Alpha, copies),
                calibrationKey
            );
            model.Save(modelPath);
        }
        var nearCopyTolerance = model.Calibration.NearCopyTolerance;
        var link = model.Link;
        log?.Invoke(
            $"threshold {model.Calibration.Threshold:F4} (alpha {model.Calibration.Alpha}, "
                + $"{model.Calibration.HeldOutCount} held-out images, "
                + $"{model.Calibration.HeldOutCopiesLeftOut} near-copies of training records left out, near-copy "
                + $"tolerance {nearCopyTolerance:P2}), encoder AUC "
                + $"{model.Info.VerificationAuc:F4}; "
                + $"link rule: similarity above {link.SimilarityThreshold:F4} or contrast over {link.Neighbours} "
                + $"neighbours above {link.ContrastThreshold:F4} ({link.HeldOutFlagged} of {link.HeldOutCount} "
                + $"held-out flagged)"
        );

        var verifier = PrepareVerifier(
            model,
            training,
            trainingEmbeddings,
            calibration,
            calibrationKey,
            settings.VerifierFor(config.Steps),
            settings,
            cacheFolder,
            device,
            log,
            progress,
            cancellationToken
        );
        var (allControl, _, controlDifferences) = EmbedAndMeasure(
            model,
            trainingEmbeddings,
            training,
            control,
            settings
        );
        var unseenControl = Beyond(controlDifferences, nearCopyTolerance);
        var controlCopies = control.Count - unseenControl.Length;
        using var controlTensor = controlCopies == 0 ? allControl : KeepRows(allControl, unseenControl);
        if (controlCopies > 0)
            control = control.Subset(unseenControl, control.Name);
        log?.Invoke(
            $"control: {control.Count} held-out images ({controlCopies} near-copies of training records left out)"
        );
        var controlEmbeddings = EmbeddingSet.FromTensor(controlTensor, control.RecordIds, model.Fingerprint);
        return new AuditReference(
            model,
            training,
            trainingEmbeddings,
            control,
            controlEmbeddings,
            verifier,
            model.Calibration.HeldOutCopiesLeftOut + controlCopies
        );
    }

    /// <summary>The held-out split's two halves, by patient: one sets the thresholds, the other is the
    /// control.</summary>
    public static (ImageDataset Calibration, ImageDataset Control) SplitHeldOut(ImageDataset heldOut) =>
        PatientSplitter.Split(heldOut, 0.5, seed: 41, $"{heldOut.Name}/calibration", $"{heldOut.Name}/control");

    /// <summary>
    /// The held-out images' embeddings (the caller disposes them), each one's nearest training records under the
    /// encoder, and its mean absolute pixel difference to the nearest.
    /// </summary>
    private static (Tensor Embeddings, TopKMatches Nearest, double[] Differences) EmbedAndMeasure(
        ReidentificationModel model,
        EmbeddingSet trainingEmbeddings,
        ImageDataset training,
        ImageDataset heldOut,
        AuditSettings settings
    )
    {
        var embeddings = AuditReference.Embed(model, heldOut);
        using var reference = trainingEmbeddings.ToTensor();
        // Enough neighbours for the link rule's contrast (nearest first, as the audit's scan keeps them).
        var nearest = PairwiseScan.Run(
            embeddings,
            reference,
            k: Math.Max(1, settings.LinkNeighbours),
            settings.SyntheticTile,
            settings.RealTile
        );
        var differences = Enumerable
            .Range(0, heldOut.Count)
            .Select(i => AuditReference.PixelDifference(heldOut.ImageAt(i), training.ImageAt(nearest.BestIndex(i))))
            .ToArray();
        return (embeddings, nearest, differences);
    }

    /// <summary>Positions of the held-out images beyond the near-copy tolerance: the unseen ones.</summary>
    private static int[] Beyond(double[] differences, double tolerance) =>
        Enumerable.Range(0, differences.Length).Where(i => differences[i] > tolerance).ToArray();

    /// <summary>The given rows of <paramref name="all"/>, which it disposes.</summary>
    private static Tensor KeepRows(Tensor all, int[] rows)
    {
        using (all)
        using (var index = tensor(rows.Select(r => (long)r).ToArray(), device: all.device))
            return all.index_select(0, index);
    }

    /// <summary>The pair verifier for this encoder, trained (or cached) and calibrated at alpha on the calibration
    /// half; null when it has no steps.</summary>
    private static PairVerifierModel? PrepareVerifier(
        ReidentificationModel model,
        ImageDataset training,
        EmbeddingSet trainingEmbeddings,
        ImageDataset calibration,
        string calibrationKey,
        PairVerifierConfig config,
        AuditSettings settings,
        string cacheFolder,
        Device device,
        Action<string>? log,
        Action<string, TrainingProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        if (config.Steps <= 0)
            return null;
        // Keyed by the arithmetic it trains in: bfloat16 and 32-bit floats train different verifiers.
        config = config.ForDevice(device);
        var path = Path.Combine(cacheFolder, $"verifier-{model.Fingerprint}-{Hash(config)}.model");
        PairVerifierModel verifier;
        if (File.Exists(path))
        {
            log?.Invoke($"{Verifier}: cached {path}");
            verifier = PairVerifierModel.Load(path, device);
        }
        else
        {
            log?.Invoke(
                $"{Verifier}: training on {training.Count} records and their look-alikes ({config.Steps} steps)"
            );
            // Checkpointed beside the cache entry, like the encoder: a silo lost mid-training costs minutes, not the
            // whole run.
            var partial = path + ".partial";
            var trained = PairVerifierTrainer.Train(
                training,
                trainingEmbeddings,
                config,
                device,
                progress: progress is null ? null : p => progress(Verifier, p),
                cancellationToken: cancellationToken,
                checkpointPath: partial
            );
            verifier = new PairVerifierModel(
                trained,
                new PairVerifierModel.Metadata(config, training.Channels, training.Height, model.Fingerprint, null)
            );
            verifier.Save(path);
            File.Delete(partial);
        }
        if (verifier.Info.CalibrationKey != calibrationKey)
        {
            // The same rule as the audit's verdict: each unseen held-out image against its nearest training record
            // under the encoder.
            var (embeddings, nearest, differences) = EmbedAndMeasure(
                model,
                trainingEmbeddings,
                training,
                calibration,
                settings
            );
            embeddings.Dispose();
            var tolerance = model.Calibration.NearCopyTolerance;
            var unseen = Beyond(differences, tolerance);
            var scores = verifier.Scores(
                calibration.Subset(unseen, calibration.Name),
                training,
                unseen.Select(nearest.BestIndex).ToArray()
            );
            verifier.SetCalibration(
                ThresholdCalibration.FromHeldOutScores(
                    scores,
                    settings.Alpha,
                    training.Count,
                    calibration.Count - unseen.Length,
                    tolerance
                ),
                calibrationKey
            );
            verifier.Save(path);
        }
        log?.Invoke(
            $"{Verifier} threshold {verifier.Calibration.Threshold:F3} (alpha {verifier.Calibration.Alpha}, "
                + $"{verifier.Calibration.HeldOutCount} held-out images)"
        );
        return verifier;
    }

    private static EmbeddingSet CachedEmbeddings(
        ReidentificationModel model,
        ImageDataset data,
        string path,
        Action<string>? log
    )
    {
        if (File.Exists(path) && TryLoad(path) is { } cached)
        {
            if (cached.EncoderFingerprint == model.Fingerprint && cached.RecordIds.SequenceEqual(data.RecordIds))
            {
                log?.Invoke($"training embeddings: cached {path}");
                return cached;
            }
        }
        log?.Invoke($"training embeddings: computing {data.Count}");
        using var embeddings = AuditReference.Embed(model, data);
        var set = EmbeddingSet.FromTensor(embeddings, data.RecordIds, model.Fingerprint);
        set.Save(path);
        return set;
    }

    /// <summary>A cached file in an older layout, or cut short, is a cache miss.</summary>
    private static EmbeddingSet? TryLoad(string path)
    {
        try
        {
            return EmbeddingSet.Load(path);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static string Hash<T>(T config) =>
        Convert.ToHexStringLower(
            System.Security.Cryptography.SHA256.HashData(
                System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(config, DiffusionCheckpoint.JsonOptions)
            )
        )[..12];
}
