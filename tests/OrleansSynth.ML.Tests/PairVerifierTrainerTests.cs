using OrleansSynth.ML.Audit;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

[Collection(FashionMnistCollection.Name)]
public class PairVerifierTrainerTests(FashionMnistFixture fashion)
{
    [Fact]
    public void VerifierTrainingResumedFromItsCheckpointEndsWhereAnUninterruptedRunEnds()
    {
        using var files = new TestFiles();
        var checkpoint = files.PathOf("verifier.ckpt");
        var train = fashion.BalancedTrainSubset(30);
        var embeddings = PixelEmbeddings(train);
        var config = new PairVerifierConfig
        {
            Steps = 250,
            BatchSize = 32,
            Width = 8,
        };

        using var uninterrupted = PairVerifierTrainer.Train(train, embeddings, config);

        using var cancellation = new CancellationTokenSource();
        var checkpoints = new List<int>();
        Assert.Throws<OperationCanceledException>(() =>
            PairVerifierTrainer.Train(
                train,
                embeddings,
                config,
                progress: p =>
                {
                    if (p.Step >= 200)
                        cancellation.Cancel();
                },
                cancellationToken: cancellation.Token,
                checkpointPath: checkpoint,
                checkpointed: checkpoints.Add
            )
        );
        Assert.Equal([200, 200], checkpoints); // the periodic one, then the one written on cancellation
        var progress = new List<int>();
        using var resumed = PairVerifierTrainer.Train(
            train,
            embeddings,
            config,
            progress: p => progress.Add(p.Step),
            checkpointPath: checkpoint
        );
        Assert.Equal(250, progress[0]);

        foreach (var (a, b) in uninterrupted.parameters().Zip(resumed.parameters()))
            Assert.True(
                a.allclose(b, rtol: 1e-4, atol: 1e-5),
                "the resumed verifier's weights differ from the uninterrupted run's"
            );
        // Batch normalisation's running statistics too: in eval mode they are part of every verdict.
        var buffers = uninterrupted.buffers().Zip(resumed.buffers()).ToList();
        Assert.NotEmpty(buffers);
        foreach (var (a, b) in buffers)
            Assert.True(
                a.dtype == ScalarType.Int64 ? a.eq(b).all().item<bool>() : a.allclose(b, rtol: 1e-4, atol: 1e-5),
                "the resumed verifier's running statistics differ from the uninterrupted run's"
            );

        // It learnt something: a record paired with itself scores above the record paired with another record.
        var records = Enumerable.Range(0, 100).ToArray();
        var same = resumed.Score(
            (s, n) => (train.Batch(records[s..(s + n)]).Images, train.Batch(records[s..(s + n)]).Images),
            records.Length
        );
        var others = resumed.Score(
            (s, n) =>
                (
                    train.Batch(records[s..(s + n)]).Images,
                    train.Batch(records[s..(s + n)].Select(r => r + 100).ToArray()).Images
                ),
            records.Length
        );
        Assert.True(
            same.Average() > others.Average() + 1,
            $"copies {same.Average():F2}, other records {others.Average():F2}"
        );

        Assert.Throws<InvalidDataException>(() =>
            PairVerifierTrainer.Train(train, embeddings, config with { Seed = 99 }, checkpointPath: checkpoint)
        );
    }

    /// <summary>Normalised pixels as a stand-in encoder: look-alikes by pixel distance are enough to train
    /// on.</summary>
    private static EmbeddingSet PixelEmbeddings(Data.ImageDataset data)
    {
        using var scope = NewDisposeScope();
        var pixels = data.Batch(Enumerable.Range(0, data.Count).ToArray()).Images.flatten(1);
        return EmbeddingSet.FromTensor(nn.functional.normalize(pixels, dim: 1), data.RecordIds, "pixels");
    }
}
