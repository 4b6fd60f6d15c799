using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Classification;

/// <summary>A small CNN classifier. <see cref="Features"/> exposes its penultimate layer for fidelity metrics.</summary>
public sealed class ImageClassifier : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> features;
    private readonly nn.Module<Tensor, Tensor> head;

    public ImageClassifier(ClassifierConfig config) : base(nameof(ImageClassifier))
    {
        Config = config;
        var w = config.Width;
        var side = (config.ImageSize + 3) / 4;
        features = nn.Sequential(
            nn.Conv2d(config.ImageChannels, w, 3, padding: 1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding: 1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2, ceil_mode: true),
            nn.Conv2d(w, 2 * w, 3, padding: 1), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding: 1), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2, ceil_mode: true),
            nn.Flatten(),
            nn.Linear(2 * w * side * side, config.FeatureDim), nn.ReLU(), nn.Dropout(0.3));
        head = nn.Linear(config.FeatureDim, config.NumClasses);
        RegisterComponents();
    }

    public ClassifierConfig Config { get; }

    /// <summary>Class logits.</summary>
    public override Tensor forward(Tensor images) => head.forward(features.forward(images));

    /// <summary>The penultimate activations, [B, FeatureDim].</summary>
    public Tensor Features(Tensor images) => features.forward(images);

    protected override void Dispose(bool disposing)
    {
        if (disposing) { features.Dispose(); head.Dispose(); }
        base.Dispose(disposing);
    }
}
