using OrleansSynth.ML.Data;
using OrleansSynth.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Trains the <see cref="PairVerifier"/> on the real training records alone: half of each batch pairs a perturbed copy
/// of a record with the record, half pairs a (perturbed) look-alike — one of the record's nearest other records under
/// the encoder — with it. Those look-alikes are what unseen real images resemble, so they are the negatives that
/// matter.
/// </summary>
public static class PairVerifierTrainer
{
    public const string CheckpointMagic = "ORLEANSSYNTH-VERIFIER-CHECKPOINT";

    /// <summary>Steps between checkpoints: about 12 s of training on 2 CPU cores.</summary>
    public const int CheckpointEvery = 200;

    /// <param name="checkpointPath">When given, the run checkpoints there every <see cref="CheckpointEvery"/> steps and
    /// on cancellation, and resumes from it if it exists.</param>
    public static PairVerifier Train(
        ImageDataset training,
        EmbeddingSet trainingEmbeddings,
        PairVerifierConfig config,
        Device? device = null,
        Action<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default,
        string? checkpointPath = null,
        Action<int>? checkpointed = null
    )
    {
        if (training.Count < 2)
            throw new ArgumentException($"{training.Name}: at least 2 training records are needed.");
        device ??= CPU;
        config = config.ForDevice(device);
        manual_seed(config.Seed);
        var verifier = new PairVerifier(config, training.Channels, training.Height);
        verifier.to(device);
        var neighbours = LookAlikes(trainingEmbeddings, Math.Min(config.LookAlikeNeighbours, training.Count - 1));
        using var optimizer = new Adam(verifier.parameters(), config.LearningRate);
        var half = Math.Max(1, config.BatchSize / 2);
        using var targets = cat([ones(half), zeros(half)]).to(device);
        var fingerprint = $"{ReidentificationTrainer.Fingerprint(training)}:{trainingEmbeddings.EncoderFingerprint}";
        var checkpoint = new ResumableTraining<PairVerifierConfig>(
            checkpointPath,
            CheckpointMagic,
            "verifier",
            config,
            fingerprint,
            verifier,
            optimizer,
            checkpointed
        );
        var (firstStep, lastLoss) = checkpoint.Resume();
        var started = DateTime.UtcNow;
        verifier.train();
        for (var step = firstStep; step < config.Steps; step++)
        {
            checkpoint.SaveIfCancelled(step, lastLoss, cancellationToken);
            using var scope = NewDisposeScope();
            // Each step's draws depend on the step alone, so a resumed run trains exactly as an uninterrupted one.
            using var generator = new Generator(SeedMixer.Mix(config.Seed, step), CPU);
            var random = new Random(unchecked((int)SeedMixer.Mix(config.Seed, 7_000_003 + step)));
            LearningRateSchedule.Apply(optimizer, LearningRateSchedule.Cosine(config.LearningRate, step, config.Steps));
            var records = Enumerable.Range(0, 2 * half).Select(_ => random.Next(training.Count)).ToArray();
            var queries = records
                .Select((r, i) => i < half ? r : neighbours[r][random.Next(neighbours[r].Length)])
                .ToArray();
            // Perturbed on the training device (its draws come from the CPU generator, so any device trains alike).
            var queryImages = training.Batch(queries, device).Images;
            var copies = NearCopyPerturbations.Apply(queryImages, config.Augmentation, generator);
            // Some copies are exact: a verifier that only ever saw changed copies can miss the plainest copy of all.
            var exact = Math.Max(1, half / 8);
            copies[TensorIndex.Slice(0, exact)] = queryImages[TensorIndex.Slice(0, exact)];
            var logits = verifier.forward(verifier.Pair(copies, training.Batch(records, device).Images));
            var loss = nn.functional.binary_cross_entropy_with_logits(logits, targets);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if ((step + 1) % 50 == 0 || step + 1 == config.Steps)
            {
                lastLoss = loss.item<float>();
                var elapsed = (DateTime.UtcNow - started).TotalSeconds;
                progress?.Invoke(
                    new TrainingProgress(
                        step + 1,
                        config.Steps,
                        lastLoss,
                        elapsed > 0 ? (step + 1 - firstStep) * 2 * half / elapsed : 0
                    )
                );
            }
            if ((step + 1) % CheckpointEvery == 0)
                checkpoint.Save(step + 1, lastLoss);
        }
        verifier.eval();
        return verifier;
    }

    /// <summary>Each record's nearest other records under the encoder.</summary>
    private static int[][] LookAlikes(EmbeddingSet embeddings, int k)
    {
        using var all = embeddings.ToTensor();
        var matches = PairwiseScan.Run(all, all, k + 1);
        return Enumerable
            .Range(0, embeddings.Count)
            .Select(i =>
                Enumerable
                    .Range(0, k + 1)
                    .Select(j => matches.RealIndices[i * (k + 1) + j])
                    .Where(j => j != i)
                    .Take(k)
                    .ToArray()
            )
            .ToArray();
    }
}
