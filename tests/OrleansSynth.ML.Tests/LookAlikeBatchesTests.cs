using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

public class LookAlikeBatchesTests
{
    [Fact]
    public void EachBatchHoldsItsAnchorsNearestRecordsOnceEach()
    {
        // 40 records in 10 tight clusters of 4 along one axis of a 2-d embedding.
        var data = new ImageDataset(
            "points",
            new byte[40],
            1,
            1,
            1,
            new long[40],
            Enumerable.Range(0, 40).Select(i => $"r{i}").ToArray()
        );
        var angles = Enumerable.Range(0, 40).Select(i => (float)(i / 4 * 0.3 + i % 4 * 0.001)).ToArray();
        var embeddings = tensor(angles.SelectMany(a => new[] { MathF.Cos(a), MathF.Sin(a) }).ToArray(), [40, 2]);
        var batches = new LookAlikeBatches(data, batchSize: 8, neighbours: 4, seed: 3);
        var refreshes = 0;
        Tensor Embed(int[] records)
        {
            refreshes++;
            Assert.Equal(40, records.Length);
            using var index = tensor(records.Select(r => (long)r).ToArray());
            return embeddings.index_select(0, index);
        }

        for (var step = 0; step < LookAlikeBatches.RefreshEvery; step++)
        {
            var batch = batches.ForStep(step, Embed);
            Assert.Equal(8, batch.Length);
            Assert.Equal(batch.Length, batch.Distinct().Count());
            // An anchor comes with its 4 nearest: a whole cluster is in every batch.
            Assert.Contains(batch.GroupBy(i => i / 4), cluster => cluster.Count() == 4);
        }
        Assert.Equal(1, refreshes);
        batches.ForStep(LookAlikeBatches.RefreshEvery, Embed);
        Assert.Equal(2, refreshes);
    }
}
