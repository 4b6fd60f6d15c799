using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Training;

namespace OrleansSynth.ML.Tests;

[Collection(FashionMnistCollection.Name)]
public class ClassifierTests(FashionMnistFixture fashion)
{
    [Fact]
    public void ClassifierLearnsFashionMnistAndResumesFromACheckpoint()
    {
        using var files = new TestFiles();
        var checkpoint = files.PathOf("classifier.ckpt");
        var train = fashion.BalancedTrainSubset(200);
        var test = fashion.Test.Subset(Enumerable.Range(0, 1000).ToArray());
        var config = new ClassifierConfig
        {
            Steps = 240,
            BatchSize = 64,
            CosineDecay = true,
            CheckpointEvery = 0,
            ReportEvery = 20,
        };

        using var cancellation = new CancellationTokenSource();
        using (var first = new ClassifierTrainer(config))
            Assert.Throws<OperationCanceledException>(() =>
                first.Train(
                    train,
                    checkpoint,
                    p =>
                    {
                        if (p.Step >= 100)
                            cancellation.Cancel();
                    },
                    cancellation.Token
                )
            );

        using var resumed = ClassifierTrainer.Resume(checkpoint);
        Assert.Equal(100, resumed.Step);
        var steps = new List<int>();
        resumed.Train(train, checkpoint, p => steps.Add(p.Step));
        Assert.Equal(120, steps[0]);
        Assert.Equal(240, resumed.Step);

        var evaluation = ClassifierTrainer.Evaluate(resumed.Model, test);
        Assert.Equal(1000, evaluation.Count);
        Assert.InRange(evaluation.Accuracy, 0.65, 1.0);
        Assert.InRange(evaluation.MacroAuc, 0.9, 1.0);
        using var reloaded = ClassifierTrainer.LoadModel(checkpoint);
        Assert.Equal(evaluation, ClassifierTrainer.Evaluate(reloaded, test));
    }
}
