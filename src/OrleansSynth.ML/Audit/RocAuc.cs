namespace OrleansSynth.ML.Audit;

/// <summary>ROC AUC from scores of positive and negative pairs (Mann-Whitney U, ties counted half).</summary>
public static class RocAuc
{
    public static double Compute(IReadOnlyList<float> positives, IReadOnlyList<float> negatives)
    {
        if (positives.Count == 0 || negatives.Count == 0)
            throw new ArgumentException("AUC needs at least one positive and one negative pair.");
        var all = positives
            .Select(s => (Score: s, Positive: true))
            .Concat(negatives.Select(s => (Score: s, Positive: false)))
            .OrderBy(p => p.Score)
            .ToArray();
        double rankSum = 0;
        for (var i = 0; i < all.Length; )
        {
            var j = i;
            while (j < all.Length && all[j].Score == all[i].Score)
                j++;
            var averageRank = (i + j + 1) / 2.0; // ranks are 1-based
            for (var t = i; t < j; t++)
                if (all[t].Positive)
                    rankSum += averageRank;
            i = j;
        }
        var np = (double)positives.Count;
        return (rankSum - np * (np + 1) / 2) / (np * negatives.Count);
    }
}
