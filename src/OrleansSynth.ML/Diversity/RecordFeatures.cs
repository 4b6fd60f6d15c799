using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Diversity;

/// <summary>
/// The per-record condition of a pseudo-conditioned diffusion model: the frozen classifier's penultimate
/// features, L2-normalised so their scale does not depend on how long the classifier trained. Training and
/// twin sampling both go through here, so they always see the same vectors.
/// </summary>
public static class RecordFeatures
{
    /// <summary>[B, FeatureDim] conditions for a batch of images in [-1, 1].</summary>
    public static Tensor Of(ImageClassifier classifier, Tensor images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return nn.functional.normalize(classifier.Features(images), p: 2, dim: 1).MoveToOuterDisposeScope();
    }

    /// <summary>[N, FeatureDim] conditions for every record of <paramref name="data"/>, on the CPU.</summary>
    public static Tensor Of(ImageClassifier classifier, ImageDataset data)
    {
        using var features = classifier.Features(data);
        return nn.functional.normalize(features, p: 2, dim: 1);
    }
}
