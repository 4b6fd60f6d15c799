using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Diversity;
using OrleansSynth.ML.Runtime;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>A diffusion model conditioned per record on a frozen classifier's features, as diversity-aware sampling
/// needs.</summary>
[Collection(FashionMnistCollection.Name)]
public class PseudoConditioningTests(FashionMnistFixture fashion)
{
    [Fact]
    public void TrainingOnRecordFeaturesMakesThePredictionDependOnThem()
    {
        var subset = fashion.BalancedTrainSubset(20);
        using var classifier = new ImageClassifier(new ClassifierConfig { Width = 8, FeatureDim = 16 });
        classifier.eval();
        using var conditions = RecordFeatures.Of(classifier, subset);
        Assert.Equal([subset.Count, 16L], conditions.shape);
        using (var norms = conditions.norm(1))
            Assert.True(norms.Minus(1).abs().max().item<float>() < 1e-4, "features are not unit-length");

        var config = TinyModels.Diffusion(steps: 40);
        using var trainer = new DiffusionTrainer(config with { Model = config.Model with { ExtraConditionDim = 16 } });
        trainer.Train(subset, recordConditions: conditions);
        Assert.All(trainer.LossHistory, p => Assert.True(double.IsFinite(p.Loss)));

        // The same noisy images and labels, two different records' features: a different noise prediction.
        using var noGrad = no_grad();
        trainer.Model.eval();
        var (images, labels) = subset.Batch([0, 1]);
        using var t = tensor(new long[] { 50, 50 });
        using var own = trainer.Model.Predict(images, t, labels, conditions.narrow(0, 0, 2));
        using var swapped = trainer.Model.Predict(images, t, labels, conditions.narrow(0, 0, 2).flip(0));
        Assert.True(
            own.sub(swapped).abs().max().item<float>() > 1e-4,
            "the record features do not reach the prediction"
        );
    }

    [Fact]
    public void WithoutRecordFeaturesTheModelSeesTheZeroConditionOfItsTraining()
    {
        // Training drops the features to zeros with the label; plain sampling (a released student's) must see the same.
        var config = TinyModels.Diffusion(steps: 1);
        using var model = new Models.UNet(config.Model with { ExtraConditionDim = 4 });
        model.eval();
        using var noGrad = no_grad();
        using var images = randn(2, 1, 28, 28);
        using var t = tensor(new long[] { 10, 90 });
        using var labels = tensor(new long[] { 3, 7 });
        using var zeroFeatures = zeros(2, 4);
        using var someFeatures = ones(2, 4);
        using var none = model.Predict(images, t, labels, null);
        using var zero = model.Predict(images, t, labels, zeroFeatures);
        using var some = model.Predict(images, t, labels, someFeatures);
        Assert.True(none.sub(zero).abs().max().item<float>() < 1e-6, "no features is not the zero condition");
        Assert.True(none.sub(some).abs().max().item<float>() > 1e-4, "the features do not reach the prediction");
    }

    [Fact]
    public void ConditionsMustMatchTheModelAndTheData()
    {
        var subset = fashion.BalancedTrainSubset(10);
        var config = TinyModels.Diffusion(steps: 2);
        using var conditioned = new DiffusionTrainer(
            config with
            {
                Model = config.Model with { ExtraConditionDim = 4 },
            }
        );
        Assert.Contains("pass them", Assert.Throws<ArgumentException>(() => conditioned.Train(subset)).Message);
        using var wrongShape = zeros(subset.Count - 1, 4);
        Assert.Contains(
            "expected",
            Assert.Throws<ArgumentException>(() => conditioned.Train(subset, recordConditions: wrongShape)).Message
        );
        using var plain = new DiffusionTrainer(config);
        using var unexpected = zeros(subset.Count, 4);
        Assert.Throws<ArgumentException>(() => plain.Train(subset, recordConditions: unexpected));
    }
}
