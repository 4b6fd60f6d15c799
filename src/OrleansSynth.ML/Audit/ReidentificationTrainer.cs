using OrleansSynth.ML.Data;
using OrleansSynth.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Trains the re-identification encoder contrastively on real training records, measures its verification AUC
/// on held-out records, and calibrates the threshold on held-out records against the training set.
/// </summary>
public static class ReidentificationTrainer
{
    public const string CheckpointMagic = "ORLEANSSYNTH-REID-CHECKPOINT";

    /// <param name="checkpointPath">When given, the run checkpoints there every 100 steps and on cancellation, and
    /// resumes from it if it exists.</param>
    public static ReidentificationModel Train(
        ImageDataset training,
        ReidentificationEncoderConfig config,
        Device? device = null,
        Action<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default,
        string? checkpointPath = null,
        Action<int>? checkpointed = null
    )
    {
        if (training.Count < 2)
            throw new ArgumentException($"{training.Name}: at least 2 training records are needed.");
        if (
            training.Channels != config.ImageChannels
            || training.Height != config.ImageSize
            || training.Width != config.ImageSize
        )
            throw new ArgumentException(
                $"{training.Name}: images are {training.Channels}x{training.Height}x{training.Width}, the encoder "
                    + $"expects {config.ImageChannels}x{config.ImageSize}x{config.ImageSize}."
            );
        device ??= CPU;
        manual_seed(config.Seed);
        var encoder = new ReidentificationEncoder(config);
        encoder.to(device);
        using var optimizer = new Adam(encoder.parameters(), config.LearningRate);
        var groups = GroupIds(training);
        var batchSize = Math.Min(config.BatchSize, training.Count);
        var schedule = new BatchSchedule(training.Count, batchSize, config.Seed);
        var lookAlikes = new LookAlikeBatches(training, batchSize, config.LookAlikeNeighbours, config.Seed);
        Tensor Embed(int[] records) =>
            encoder.Embed(
                (start, count) => training.Batch(records[start..(start + count)]).Images.to(device),
                records.Length
            );
        var started = DateTime.UtcNow;
        var fingerprint = Fingerprint(training);
        var checkpoint = new ResumableTraining<ReidentificationEncoderConfig>(
            checkpointPath,
            CheckpointMagic,
            "encoder",
            config,
            fingerprint,
            encoder,
            optimizer,
            checkpointed
        );
        var (firstStep, lastLoss) = checkpoint.Resume();
        encoder.train();
        for (var step = firstStep; step < config.Steps; step++)
        {
            checkpoint.SaveIfCancelled(step, lastLoss, cancellationToken);
            using var scope = NewDisposeScope();
            using var generator = new Generator(SeedMixer.Mix(config.Seed, step), CPU);
            // Every other step, once the encoder has learnt something, a batch of look-alikes: the hard negatives.
            var indices =
                config.LookAlikeNeighbours > 1 && step >= LookAlikeBatches.RefreshEvery && step % 2 == 1
                    ? lookAlikes.ForStep(step, Embed)
                    : schedule.IndicesForStep(step);
            var (images, _) = training.Batch(indices);
            var views = cat([
                    NearCopyPerturbations.Apply(images, config.Augmentation, generator),
                    NearCopyPerturbations.Apply(images, config.Augmentation, generator),
                ])
                .to(device);
            var batchGroups = tensor(
                indices.Select(i => groups[i]).Concat(indices.Select(i => groups[i])).ToArray(),
                device: device
            );

            optimizer.zero_grad();
            var loss = ContrastiveLoss.Compute(encoder.forward(views), batchGroups, config.Temperature);
            loss.backward();
            optimizer.step();
            lastLoss = loss.item<float>();
            if ((step + 1) % 25 == 0 || step + 1 == config.Steps)
                progress?.Invoke(
                    new TrainingProgress(
                        step + 1,
                        config.Steps,
                        lastLoss,
                        (step + 1.0 - firstStep) * batchSize * 2 / (DateTime.UtcNow - started).TotalSeconds
                    )
                );
            if ((step + 1) % 100 == 0)
                checkpoint.Save(step + 1, lastLoss);
        }
        checkpoint.Save(config.Steps, lastLoss);
        encoder.eval();
        var info = new ReidentificationModel.Metadata(
            config,
            fingerprint,
            training.Count,
            double.NaN,
            0,
            null,
            lastLoss
        );
        return new ReidentificationModel(encoder, info);
    }

    /// <summary>
    /// Verification on held-out images: positives are two augmentations of one record, negatives two different
    /// records. Returns the AUC and stores it in the model.
    /// </summary>
    public static double MeasureVerification(
        ReidentificationModel model,
        ImageDataset heldOut,
        int pairs = 2000,
        long seed = 23
    )
    {
        var count = Math.Min(pairs, heldOut.Count);
        if (count < 2)
            throw new ArgumentException($"{heldOut.Name}: at least 2 held-out images are needed for verification.");
        var indices = Enumerable.Range(0, count).Select(i => (int)((long)i * heldOut.Count / count)).ToArray();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed, CPU);
        var (images, _) = heldOut.Batch(indices);
        var config = model.Encoder.Config.Augmentation;
        var first = model.Encoder.Embed(
            (s, n) => NearCopyPerturbations.Apply(images.narrow(0, s, n), config, generator),
            count
        );
        var second = model.Encoder.Embed(
            (s, n) => NearCopyPerturbations.Apply(images.narrow(0, s, n), config, generator),
            count
        );
        var positive = (first * second).sum(1).data<float>().ToArray();
        var negative = (first * second.roll(1, 0)).sum(1).data<float>().ToArray();
        var auc = RocAuc.Compute(positive, negative);
        model.SetVerification(auc, count);
        return auc;
    }

    /// <summary>Group per record for the contrastive loss: the patient where known, else the record itself.</summary>
    private static long[] GroupIds(ImageDataset data)
    {
        if (!data.HasPatientIds)
            return Enumerable.Range(0, data.Count).Select(i => (long)i).ToArray();
        var ids = new Dictionary<string, long>();
        return data.PatientIds!.Select(p => ids.TryGetValue(p!, out var id) ? id : ids[p!] = ids.Count).ToArray();
    }

    /// <summary>Order-sensitive fingerprint of the record ids: changes whenever the training set does.</summary>
    public static string Fingerprint(ImageDataset data) =>
        Convert.ToHexStringLower(
            System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(string.Join("\n", data.RecordIds))
            )
        )[..16];
}
