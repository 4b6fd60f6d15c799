using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Text;
using OrleansSynth.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Diversity;

/// <summary>
/// Diversity-aware sampling: for each real record, draw K candidates conditioned on its label and its
/// <see cref="RecordFeatures"/>, score each against the source (re-identification link, classifier consistency),
/// keep the best unlinked one (<see cref="TwinSelection"/>); when all K are linked, redraw with lower guidance,
/// down to the floor, then skip the record. The model, classifier and encoder are frozen, and all three on the device
/// the work runs on (the diffusion model's).
/// </summary>
public sealed class TwinGenerator(
    UNet model,
    IDiffusionSampler sampler,
    ImageClassifier classifier,
    ReidentificationModel reidentification,
    TwinSettings settings
)
{
    public const int DefaultSamplingBatch = 256;

    /// <summary>Candidates generated per forward batch (bounds memory; guidance doubles it inside).</summary>
    public int SamplingBatch { get; init; } = DefaultSamplingBatch;

    /// <summary>Twins for <paramref name="sources"/> (real records); the result holds only synthetic images.</summary>
    /// <param name="seed">Fixes every draw, so the same records and seed give the same twins.</param>
    /// <param name="round">Called after each round with (round, records still without a twin).</param>
    public TwinBatch Generate(
        ImageDataset sources,
        long seed,
        Action<int, int>? round = null,
        CancellationToken cancellationToken = default
    )
    {
        settings.Validate();
        using var noGrad = no_grad();
        var n = sources.Count;
        var all = Enumerable.Range(0, n).ToArray();
        var device = model.parameters().First().device;
        var (sourceImages, sourceLabels) = sources.Batch(all, device);
        using var _ = sourceImages;
        using var __ = sourceLabels;
        using var sourceConditions = RecordFeatures.Of(classifier, sourceImages);
        using var sourceProbabilities = softmax(classifier.forward(sourceImages), 1);
        using var sourceEmbeddings = reidentification.Encoder.forward(sourceImages);
        var threshold = reidentification.Calibration.Threshold;
        // A model that reads reports draws each record's twins from the record's own report.
        var sourcePrompts = model.Config.Text is { } text
            ? new ReportTokenizer(text).Rows(sources.Reports ?? new string?[n])
            : null;

        var chosen = new List<(int Record, int Rank, byte[] Pixels)>();
        var stats = TwinStatistics.Empty(settings.Guidance) with { Records = n };
        var pending = all.ToList();
        for (var r = 0; pending.Count > 0; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (settings.GuidanceForRound(r) is not { } guidance)
            {
                stats = stats with { Skipped = stats.Skipped + pending.Count };
                break;
            }
            if (r > 0)
                stats = stats with { Retries = stats.Retries + pending.Count };
            var k = settings.Candidates;
            var rows = pending.SelectMany(p => Enumerable.Repeat(p, k)).ToArray();
            using var candidates = Draw(
                rows,
                sourceLabels,
                sourceConditions,
                sourcePrompts,
                guidance,
                SeedMixer.Mix(seed, r)
            );
            using var rowIndex = tensor(rows.Select(i => (long)i).ToArray(), device: device);
            using var similarity = (
                reidentification.Encoder.forward(candidates) * sourceEmbeddings.index_select(0, rowIndex)
            ).sum(1);
            using var logProbabilities = nn.functional.log_softmax(classifier.forward(candidates), 1);
            using var consistency = -(sourceProbabilities.index_select(0, rowIndex) * logProbabilities).sum(1);
            var sims = similarity.cpu().data<float>().ToArray();
            var cons = consistency.cpu().data<float>().ToArray();
            var bytes = ImageTensors.ToBytes(candidates);
            var imageBytes = sources.ImageBytes;

            var stillPending = new List<int>();
            for (var p = 0; p < pending.Count; p++)
            {
                var scores = Enumerable
                    .Range(0, k)
                    .Select(c => new CandidateScore(c, sims[p * k + c], sims[p * k + c] > threshold, cons[p * k + c]))
                    .ToList();
                stats = stats with
                {
                    CandidatesDrawn = stats.CandidatesDrawn + k,
                    RejectedLinked = stats.RejectedLinked + scores.Count(s => s.Linked),
                };
                var winners = TwinSelection.Choose(scores, settings);
                if (winners.Count == 0)
                {
                    stillPending.Add(pending[p]);
                    continue;
                }
                for (var rank = 0; rank < winners.Count; rank++)
                    chosen.Add(
                        (
                            pending[p],
                            rank,
                            bytes.AsSpan((p * k + winners[rank].Candidate) * imageBytes, imageBytes).ToArray()
                        )
                    );
                stats = stats with
                {
                    Twins = stats.Twins + 1,
                    Extras = stats.Extras + winners.Count - 1,
                    FinalGuidanceSum = stats.FinalGuidanceSum + guidance,
                    LowestFinalGuidance = Math.Min(stats.LowestFinalGuidance, guidance),
                };
            }
            pending = stillPending;
            round?.Invoke(r, pending.Count);
        }

        // Twins in record order, the extra samples (if any) right after their twin.
        var ordered = chosen.OrderBy(c => c.Record).ThenBy(c => c.Rank).ToList();
        return new TwinBatch(
            ordered.SelectMany(c => c.Pixels).ToArray(),
            ordered.Select(c => sources.Labels[c.Record]).ToArray(),
            ordered.Select(c => c.Record).ToArray(),
            stats
        )
        {
            Prompts = sourcePrompts is null ? null : ordered.Select(c => sources.Reports?[c.Record]).ToArray(),
        };
    }

    private Tensor Draw(int[] rows, Tensor labels, Tensor conditions, long[]? prompts, double guidance, ulong seed)
    {
        var width = model.Config.Text?.MaxTokens ?? 0;
        var parts = new List<Tensor>();
        for (var start = 0; start < rows.Length; start += SamplingBatch)
        {
            var chunk = rows[start..Math.Min(start + SamplingBatch, rows.Length)];
            using var index = tensor(chunk.Select(i => (long)i).ToArray(), device: labels.device);
            using var chunkConditions = conditions.index_select(0, index).cpu();
            using var chunkLabels = labels.index_select(0, index).cpu();
            var request = new SamplingRequest(
                chunkLabels.data<long>().ToArray(),
                (long)SeedMixer.Mix((long)seed, start),
                guidance
            )
            {
                ExtraCondition = chunkConditions.contiguous().data<float>().ToArray(),
                PromptTokens = prompts is null
                    ? null
                    : [.. chunk.SelectMany(i => prompts.AsSpan(i * width, width).ToArray())],
            };
            parts.Add(sampler.Sample(model, request));
        }
        var all = cat(parts);
        foreach (var part in parts)
            part.Dispose();
        return all;
    }
}

/// <summary>Synthetic twins: 8-bit pixels [N,C,H,W], labels, and each twin's source position in the input (internal;
/// never released).</summary>
public sealed record TwinBatch(byte[] Pixels, long[] Labels, int[] SourcePositions, TwinStatistics Statistics)
{
    public int Count => Labels.Length;

    /// <summary>For a model that reads reports, the report each twin was drawn from (its source's; internal, never
    /// released).</summary>
    public string?[]? Prompts { get; init; }
}
