using OrleansSynth.ML.Data;
using OrleansSynth.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Trains the <see cref="PairVerifier"/> on the real training records alone: half of each batch pairs a perturbed copy of
/// a record with the record, half pairs a (perturbed) look-alike — one of the record's nearest other records under the
/// encoder — with it. Those look-alikes are what unseen real images resemble, so they are the negatives that matter.
/// </summary>
public static class PairVerifierTrainer
{
    public static PairVerifier Train(ImageDataset training, EmbeddingSet trainingEmbeddings, PairVerifierConfig config, Device? device = null,
        Action<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (training.Count < 2) throw new ArgumentException($"{training.Name}: at least 2 training records are needed.");
        device ??= CPU;
        manual_seed(config.Seed);
        var verifier = new PairVerifier(config, training.Channels, training.Height);
        verifier.to(device);
        var neighbours = LookAlikes(trainingEmbeddings, Math.Min(config.LookAlikeNeighbours, training.Count - 1));
        using var optimizer = optim.Adam(verifier.parameters(), lr: config.LearningRate);
        var schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, Math.Max(1, config.Steps));
        using var generator = new Generator((ulong)config.Seed);
        var random = new Random((int)config.Seed);
        var half = Math.Max(1, config.BatchSize / 2);
        using var targets = cat([ones(half), zeros(half)]).to(device);
        var started = DateTime.UtcNow;
        verifier.train();
        for (var step = 0; step < config.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var records = Enumerable.Range(0, 2 * half).Select(_ => random.Next(training.Count)).ToArray();
            var queries = records.Select((r, i) => i < half ? r : neighbours[r][random.Next(neighbours[r].Length)]).ToArray();
            var copies = NearCopyPerturbations.Apply(training.Batch(queries).Images.to(device), config.Augmentation, generator);
            // Some copies are exact: a verifier that only ever saw changed copies can miss the plainest copy of all.
            var exact = Math.Max(1, half / 8);
            copies[TensorIndex.Slice(0, exact)] = training.Batch(queries[..exact]).Images.to(device);
            var logits = verifier.forward(verifier.Pair(copies, training.Batch(records).Images.to(device)));
            var loss = nn.functional.binary_cross_entropy_with_logits(logits, targets);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            schedule.step();
            if ((step + 1) % 50 == 0 || step + 1 == config.Steps)
            {
                var elapsed = (DateTime.UtcNow - started).TotalSeconds;
                progress?.Invoke(new TrainingProgress(step + 1, config.Steps, loss.item<float>(), elapsed > 0 ? (step + 1) * 2 * half / elapsed : 0));
            }
        }
        verifier.eval();
        return verifier;
    }

    /// <summary>Each record's nearest other records under the encoder.</summary>
    private static int[][] LookAlikes(EmbeddingSet embeddings, int k)
    {
        using var all = embeddings.ToTensor();
        var matches = PairwiseScan.Run(all, all, k + 1);
        return Enumerable.Range(0, embeddings.Count)
            .Select(i => Enumerable.Range(0, k + 1).Select(j => matches.RealIndices[i * (k + 1) + j]).Where(j => j != i).Take(k).ToArray())
            .ToArray();
    }
}
