using OrleansSynth.ML.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Maps an image to a unit-norm embedding; two images of the same record (or patient) land close together.
/// Keeps the spatial layout until a final linear projection, since copies are recognised by where things are.
/// </summary>
public sealed class ReidentificationEncoder : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> features;
    private readonly nn.Module<Tensor, Tensor> projection;

    public ReidentificationEncoder(ReidentificationEncoderConfig config)
        : base(nameof(ReidentificationEncoder))
    {
        Config = config;
        var w = config.Width;
        // Batch normalisation after each convolution: 1,000 steps with it find a compound copy's source first as often
        // as 3,000 without (490 and 489 of 500 on Fashion-MNIST), in half the time (docs/lab-notebook.md).
        features = nn.Sequential(
            nn.Conv2d(config.ImageChannels, w, 3, padding: 1),
            new BatchNormalization(w),
            nn.ReLU(),
            nn.Conv2d(w, w, 3, stride: 2, padding: 1),
            new BatchNormalization(w),
            nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, padding: 1),
            new BatchNormalization(2 * w),
            nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, stride: 2, padding: 1),
            new BatchNormalization(2 * w),
            nn.ReLU(),
            nn.Flatten()
        );
        // Two stride-2 convolutions with padding 1: ceil(size / 4) per side.
        var flat = 2 * w * ((config.ImageSize + 3) / 4) * ((config.ImageSize + 3) / 4);
        projection = nn.Sequential(nn.Linear(flat, 256), nn.ReLU(), nn.Linear(256, config.EmbeddingDim));
        RegisterComponents();
    }

    public ReidentificationEncoderConfig Config { get; }

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var embedding = projection.forward(features.forward(Canonicalization.Apply(images, Config.CanonicalBlur)));
        return nn.functional.normalize(embedding, p: 2, dim: 1).MoveToOuterDisposeScope();
    }

    /// <summary>Embeds many images in batches on the encoder's device without tracking gradients; returns [N,
    /// EmbeddingDim] on the CPU.</summary>
    public Tensor Embed(
        Func<int, int, Tensor> batchOf,
        int count,
        int batchSize = 512,
        Action<int, int>? progress = null
    )
    {
        using var noGrad = no_grad();
        var device = parameters().First().device;
        var wasTraining = training;
        eval();
        var result = empty(count, Config.EmbeddingDim);
        for (var start = 0; start < count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var size = Math.Min(batchSize, count - start);
            var images = batchOf(start, size).to(device);
            result.narrow(0, start, size).copy_(forward(images).cpu());
            progress?.Invoke(start + size, count);
        }
        train(wasTraining);
        return result;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            features.Dispose();
            projection.Dispose();
        }
        base.Dispose(disposing);
    }
}
