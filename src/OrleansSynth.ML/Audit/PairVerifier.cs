using OrleansSynth.ML.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// The audit's second look: given a query image and one real record (the encoder's nearest), says how likely the query
/// is a near-copy of that record. It sees both images at once, in canonical pose, with their difference, so it can
/// check the details two separate embeddings average away: look-alike garments that embed close together differ in
/// them.
/// </summary>
public sealed class PairVerifier : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> features;
    private readonly nn.Module<Tensor, Tensor> head;

    public PairVerifier(PairVerifierConfig config, int channels, int imageSize)
        : base(nameof(PairVerifier))
    {
        Config = config;
        var w = config.Width;
        // Batch normalisation after each convolution: the same steps learn more (on Fashion-MNIST's 60,000 records,
        // 4,000 steps of 64 pairs caught 86.0% of the planted compound copies with it, 81.4% without).
        // Settled by PairVerifierConfig.ForDevice (the trainer does); an unsettled config gets 32-bit floats.
        var inBFloat16 = config.BFloat16 == true;
        features = nn.Sequential(
            new BFloat16Convolution(3 * channels, w, 3, stride: 1, padding: 1, inBFloat16),
            new BatchNormalization(w),
            nn.ReLU(),
            new BFloat16Convolution(w, w, 3, stride: 2, padding: 1, inBFloat16),
            new BatchNormalization(w),
            nn.ReLU(),
            new BFloat16Convolution(w, 2 * w, 3, stride: 1, padding: 1, inBFloat16),
            new BatchNormalization(2 * w),
            nn.ReLU(),
            new BFloat16Convolution(2 * w, 2 * w, 3, stride: 2, padding: 1, inBFloat16),
            new BatchNormalization(2 * w),
            nn.ReLU(),
            nn.Flatten()
        );
        // Two stride-2 convolutions with padding 1: ceil(size / 4) per side.
        var side = (imageSize + 3) / 4;
        head = nn.Sequential(nn.Linear(2 * w * side * side, 128), nn.ReLU(), nn.Linear(128, 1));
        RegisterComponents();
    }

    public PairVerifierConfig Config { get; }

    /// <summary>Pairs [B,3C,H,W] (see <see cref="Pair"/>) to logits [B]: above 0 leans towards "a copy of this
    /// record".</summary>
    public override Tensor forward(Tensor pairs)
    {
        using var scope = NewDisposeScope();
        // The head in 32-bit floats: the logits are compared with a calibrated threshold.
        var features32 = features.forward(MemoryLayout.ChannelsLast(pairs)).to(ScalarType.Float32);
        return head.forward(features32).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>Query and record [B,C,H,W] in [-1, 1], each in canonical pose, and their difference, stacked on
    /// channels.</summary>
    public Tensor Pair(Tensor queries, Tensor records)
    {
        using var scope = NewDisposeScope();
        var q = Canonicalization.Apply(queries, Config.CanonicalBlur);
        var r = Canonicalization.Apply(records, Config.CanonicalBlur);
        return cat([q, r, q - r], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Logits for many (query, record) pairs, in batches on the verifier's device, without gradients; [N] on
    /// the CPU.</summary>
    public float[] Score(Func<int, int, (Tensor Queries, Tensor Records)> batchOf, int count, int batchSize = 512)
    {
        using var noGrad = no_grad();
        var device = parameters().First().device;
        var wasTraining = training;
        eval();
        var result = new float[count];
        for (var start = 0; start < count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var size = Math.Min(batchSize, count - start);
            var (queries, records) = batchOf(start, size);
            forward(Pair(queries.to(device), records.to(device))).cpu().data<float>().CopyTo(result, start);
        }
        train(wasTraining);
        return result;
    }
}
