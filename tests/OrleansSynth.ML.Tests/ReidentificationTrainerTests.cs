using OrleansSynth.ML.Audit;

namespace OrleansSynth.ML.Tests;

[Collection(FashionMnistCollection.Name)]
public class ReidentificationTrainerTests(FashionMnistFixture fashion)
{
    [Fact]
    public void EncoderTrainingResumesFromItsCheckpoint()
    {
        using var files = new TestFiles();
        var checkpoint = files.PathOf("encoder.ckpt");
        var train = fashion.BalancedTrainSubset(50);
        var config = new ReidentificationEncoderConfig { Steps = 150, BatchSize = 64 };
        using var cancellation = new CancellationTokenSource();
        var checkpoints = new List<int>();
        Assert.Throws<OperationCanceledException>(() =>
            ReidentificationTrainer.Train(
                train,
                config,
                progress: p =>
                {
                    if (p.Step >= 100)
                        cancellation.Cancel();
                },
                cancellationToken: cancellation.Token,
                checkpointPath: checkpoint,
                checkpointed: checkpoints.Add
            )
        );
        Assert.Equal([100, 100], checkpoints); // the periodic one at 100, then the one written on cancellation

        var progress = new List<int>();
        using var model = ReidentificationTrainer.Train(
            train,
            config,
            progress: p => progress.Add(p.Step),
            checkpointPath: checkpoint
        );
        Assert.Equal(125, progress[0]);
        var auc = ReidentificationTrainer.MeasureVerification(
            model,
            fashion.Test.Subset(Enumerable.Range(0, 400).ToArray())
        );
        Assert.InRange(auc, 0.9, 1.0);

        var other = config with { Seed = 99 };
        Assert.Throws<InvalidDataException>(() =>
            ReidentificationTrainer.Train(train, other, checkpointPath: checkpoint)
        );
    }
}
