namespace OrleansSynth.Grains.Sampling;

/// <summary>
/// The label of every sample of a job, computed the same way by every shard: class-balanced, or in given
/// proportions (largest-remainder quotas, classes interleaved so any stretch of samples has about the same mix).
/// </summary>
public static class SampleLabels
{
    public static long[] For(int count, int classes, IReadOnlyList<int>? classCounts)
    {
        if (classCounts is null || classCounts.Sum() == 0)
            return Enumerable.Range(0, count).Select(i => (long)(i % classes)).ToArray();
        if (classCounts.Count > classes || classCounts.Any(c => c < 0))
            throw new ArgumentException($"Class counts must be {classes} non-negative numbers.");

        var total = (double)classCounts.Sum();
        var exact = classCounts.Select(c => c / total * count).ToArray();
        var quotas = exact.Select(e => (int)Math.Floor(e)).ToArray();
        foreach (
            var c in Enumerable
                .Range(0, exact.Length)
                .OrderByDescending(c => exact[c] - quotas[c])
                .ThenBy(c => c)
                .Take(count - quotas.Sum())
        )
            quotas[c]++;
        // Place the k-th sample of class c at position (k + 0.5) / quota_c along the run, then sort.
        return Enumerable
            .Range(0, quotas.Length)
            .SelectMany(c => Enumerable.Range(0, quotas[c]).Select(k => (Position: (k + 0.5) / quotas[c], Class: c)))
            .OrderBy(p => p.Position)
            .ThenBy(p => p.Class)
            .Select(p => (long)p.Class)
            .ToArray();
    }
}
