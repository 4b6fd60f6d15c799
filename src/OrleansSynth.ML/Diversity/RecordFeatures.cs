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
    public static Tensor Of(ImageClassifier classifier, ImageDataset data, int batchSize = 500)
    {
        var device = classifier.parameters().First().device;
        var result = empty(data.Count, classifier.Config.FeatureDim);
        var all = Enumerable.Range(0, data.Count).ToArray();
        for (var start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(batchSize, data.Count - start);
            var (images, _) = data.Batch(all[start..(start + count)], device);
            result.narrow(0, start, count).copy_(Of(classifier, images).cpu());
        }
        return result;
    }
}
