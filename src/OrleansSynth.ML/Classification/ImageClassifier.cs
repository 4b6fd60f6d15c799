using OrleansSynth.ML.Data;
using OrleansSynth.ML.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Classification;

/// <summary>A small CNN classifier. <see cref="Features"/> exposes its penultimate layer for fidelity
/// metrics.</summary>
public sealed class ImageClassifier : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> features;
    private readonly nn.Module<Tensor, Tensor> head;

    public ImageClassifier(ClassifierConfig config)
        : base(nameof(ImageClassifier))
    {
        Config = config;
        var w = config.Width;
        var side = (config.ImageSize + 3) / 4;
        features = nn.Sequential(
            nn.Conv2d(config.ImageChannels, w, 3, padding: 1),
            new BatchNormalization(w),
            nn.ReLU(),
            nn.Conv2d(w, w, 3, padding: 1),
            new BatchNormalization(w),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode: true),
            nn.Conv2d(w, 2 * w, 3, padding: 1),
            new BatchNormalization(2 * w),
            nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding: 1),
            new BatchNormalization(2 * w),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode: true),
            nn.Flatten(),
            nn.Linear(2 * w * side * side, config.FeatureDim),
            nn.ReLU(),
            nn.Dropout(0.3)
        );
        head = nn.Linear(config.FeatureDim, config.NumClasses);
        RegisterComponents();
    }

    public ClassifierConfig Config { get; }

    /// <summary>Class logits.</summary>
    public override Tensor forward(Tensor images) => head.forward(features.forward(images));

    /// <summary>The penultimate activations, [B, FeatureDim].</summary>
    public Tensor Features(Tensor images) => features.forward(images);

    /// <summary>The penultimate activations of every image of <paramref name="data"/>, [N, FeatureDim] on the CPU,
    /// without gradients.</summary>
    public Tensor Features(ImageDataset data, int batchSize = 500)
    {
        using var noGrad = no_grad();
        var device = parameters().First().device;
        var result = empty(data.Count, Config.FeatureDim);
        var all = Enumerable.Range(0, data.Count).ToArray();
        for (var start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(batchSize, data.Count - start);
            result
                .narrow(0, start, count)
                .copy_(Features(data.Batch(all[start..(start + count)], device).Images).cpu());
        }
        return result;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            features.Dispose();
            head.Dispose();
        }
        base.Dispose(disposing);
    }
}
