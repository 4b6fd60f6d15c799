namespace OrleansSynth.ML.Training;

/// <summary>
/// Which records form the batch of each step: a fresh permutation of the data per epoch, derived from the
/// seed and the epoch alone, so a resumed run draws exactly the batches an uninterrupted one would.
/// </summary>
public sealed class BatchSchedule(int recordCount, int batchSize, long seed)
{
    private int _cachedEpoch = -1;
    private int[] _permutation = [];

    public int[] IndicesForStep(int step)
    {
        if (recordCount == 0)
            throw new InvalidOperationException("Cannot draw batches from an empty dataset.");
        var batch = new int[batchSize];
        var position = (long)step * batchSize;
        for (var i = 0; i < batchSize; i++, position++)
        {
            var epoch = (int)(position / recordCount);
            batch[i] = Permutation(epoch)[(int)(position % recordCount)];
        }
        return batch;
    }

    private int[] Permutation(int epoch)
    {
        if (epoch == _cachedEpoch)
            return _permutation;
        var random = new Random(unchecked((int)SeedMixer.Mix(seed, epoch)));
        _permutation = Enumerable.Range(0, recordCount).ToArray();
        random.Shuffle(_permutation);
        _cachedEpoch = epoch;
        return _permutation;
    }
}
