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

    private int _window = -1;
    private int[][] _batches = [];

    /// <param name="embedAll">Embeds the whole training set with the encoder as it is now, [N, D].</param>
    public int[] ForStep(int step, Func<Tensor> embedAll)
    {
        var window = step / RefreshEvery;
        if (window != _window) Refresh(window, embedAll);
        return _batches[step % RefreshEvery];
    }

    private void Refresh(int window, Func<Tensor> embedAll)
    {
        var k = Math.Min(neighbours, training.Count);
        var anchorsPerBatch = Math.Max(1, batchSize / k);
        var random = new Random(unchecked((int)SeedMixer.Mix(seed, 1_000_003 + window)));
        var anchors = Enumerable.Range(0, RefreshEvery * anchorsPerBatch).Select(_ => random.Next(training.Count)).ToArray();
        TopKMatches nearest;
        using (var all = embedAll())
        using (var index = tensor(anchors.Select(a => (long)a).ToArray()))
        using (var anchorEmbeddings = all.index_select(0, index))
            nearest = PairwiseScan.Run(anchorEmbeddings, all, k);
        _batches = new int[RefreshEvery][];
        for (var b = 0; b < RefreshEvery; b++)
        {
            var batch = new HashSet<int>();
            for (var a = b * anchorsPerBatch; a < (b + 1) * anchorsPerBatch; a++)
            {
                batch.Add(anchors[a]);
                for (var j = 0; j < k; j++) batch.Add(nearest.RealIndices[a * k + j]);
            }
            while (batch.Count < Math.Min(batchSize, training.Count)) batch.Add(random.Next(training.Count));
            _batches[b] = batch.Take(batchSize).ToArray();
        }
        _window = window;
    }
}
