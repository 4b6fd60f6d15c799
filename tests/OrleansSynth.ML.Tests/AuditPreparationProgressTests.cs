using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// A first audit of a dataset spends most of its time training its two models; the preparation reports each one's
/// steps under its name, so a user sees it move, and reports nothing for models it takes from the cache.
/// </summary>
[Collection(FashionMnistCollection.Name)]
public class AuditPreparationProgressTests(FashionMnistFixture fashion)
{
    [Fact]
    public void ReportsTheStepsOfEachModelItTrainsAndNoneOfCachedOnes()
    {
        using var files = new TestFiles();
        var training = fashion.Train.Subset(Enumerable.Range(0, 600).ToArray(), "fashion-mnist/train-600");
        var heldOut = fashion.Test.Subset(Enumerable.Range(0, 400).ToArray(), "fashion-mnist/test-400");
        var encoder = new ReidentificationEncoderConfig { Steps = 50, BatchSize = 32 };
        var settings = new AuditSettings
        {
            Canaries = 0,
            Verifier = new PairVerifierConfig { Steps = 100, BatchSize = 32 },
        };

        var reported = new List<(string Model, TrainingProgress Progress)>();
        using (
            AuditPreparation.Prepare(
                training,
                heldOut,
                encoder,
                settings,
                files.PathOf("cache"),
                CPU,
                progress: (model, p) => reported.Add((model, p))
            )
        ) { }

        var models = reported.Select(r => r.Model).Distinct().ToList();
        Assert.Equal(new[] { AuditPreparation.Encoder, AuditPreparation.Verifier }, models);
        foreach (var (model, steps) in new[] { (AuditPreparation.Encoder, 50), (AuditPreparation.Verifier, 100) })
        {
            var progress = reported.Where(r => r.Model == model).Select(r => r.Progress).ToList();
            Assert.All(progress, p => Assert.Equal(steps, p.TotalSteps));
            Assert.True(progress.Count >= 2, $"{model}: {progress.Count} reports");
            Assert.Equal(progress.Select(p => p.Step).Order(), progress.Select(p => p.Step));
            Assert.Equal(steps, progress[^1].Step);
        }

        var again = new List<string>();
        using (
            AuditPreparation.Prepare(
                training,
                heldOut,
                encoder,
                settings,
                files.PathOf("cache"),
                CPU,
                progress: (model, _) => again.Add(model)
            )
        ) { }
        Assert.Empty(again);
    }
}
