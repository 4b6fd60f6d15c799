using OrleansSynth.ML.Data;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Batches of look-alike records, for hard negatives: the audit's threshold is set by how close distinct real
/// records come to each other, so the encoder must learn to tell apart exactly the records it finds most alike.
/// Every <see cref="RefreshEvery"/> steps the training set is embedded with the current encoder; each batch of the
/// window is then a few random anchors, each with its nearest records.
/// </summary>
public sealed class LookAlikeBatches(ImageDataset training, int batchSize, int neighbours, long seed)
{
    public const int RefreshEvery = 100;

    /// <summary>Records embedded per refresh at most: look-alikes are mined in a random pool this large, so a refresh
    /// costs the same on any dataset.</summary>
    public const int PoolSize = 16_384;

    private int _window = -1;
    private int[][] _batches = [];

    /// <param name="embed">Embeds the given training records with the encoder as it is now, [N, D].</param>
    public int[] ForStep(int step, Func<int[], Tensor> embed)
    {
        var window = step / RefreshEvery;
        if (window != _window)
            Refresh(window, embed);
        return _batches[step % RefreshEvery];
    }

    private void Refresh(int window, Func<int[], Tensor> embed)
    {
        var random = new Random(unchecked((int)SeedMixer.Mix(seed, 1_000_003 + window)));
        var pool = Enumerable.Range(0, training.Count).ToArray();
        if (pool.Length > PoolSize)
        {
            random.Shuffle(pool);
            pool = pool[..PoolSize];
        }
        var k = Math.Min(neighbours, pool.Length);
        var anchorsPerBatch = Math.Max(1, batchSize / k);
        // Anchors are positions in the pool; the batches hold record indices.
        var anchors = Enumerable
            .Range(0, RefreshEvery * anchorsPerBatch)
            .Select(_ => random.Next(pool.Length))
            .ToArray();
        TopKMatches nearest;
        using (var all = embed(pool))
        using (var index = tensor(anchors.Select(a => (long)a).ToArray()))
        using (var anchorEmbeddings = all.index_select(0, index))
            nearest = PairwiseScan.Run(anchorEmbeddings, all, k);
        _batches = new int[RefreshEvery][];
        for (var b = 0; b < RefreshEvery; b++)
        {
            var batch = new HashSet<int>();
            for (var a = b * anchorsPerBatch; a < (b + 1) * anchorsPerBatch; a++)
            {
                batch.Add(pool[anchors[a]]);
                for (var j = 0; j < k; j++)
                    batch.Add(pool[nearest.RealIndices[a * k + j]]);
            }
            while (batch.Count < Math.Min(batchSize, training.Count))
                batch.Add(random.Next(training.Count));
            _batches[b] = batch.Take(batchSize).ToArray();
        }
        _window = window;
    }
}
