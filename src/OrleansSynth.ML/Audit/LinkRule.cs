namespace OrleansSynth.ML.Audit;

/// <summary>
/// The encoder's verdict on a query: linked to its nearest training record when that similarity is high on its own, or
/// when the nearest record stands out from the query's next-nearest ones (the contrast). A perturbed copy of a record
/// with no look-alikes may sit below any similarity a crowded class allows, yet its source still stands apart from
/// everything else; the similarity arm keeps copies of records that do have look-alikes (or duplicates). Both
/// thresholds are set together on held-out images, so that the rule as a whole flags at most alpha of them.
/// </summary>
/// <param name="SimilarityThreshold">Linked when the nearest similarity is strictly above this…</param>
/// <param name="ContrastThreshold">…or when the contrast is strictly above this.</param>
/// <param name="Neighbours">Nearest records the contrast looks at (the nearest included).</param>
/// <param name="Alpha">Target false-flag rate on people the model never saw.</param>
/// <param name="HeldOutCount">Held-out images the thresholds were set on.</param>
/// <param name="HeldOutFlagged">Held-out images the rule still flags (at most Alpha x HeldOutCount).</param>
public sealed record LinkRule(
    float SimilarityThreshold,
    float ContrastThreshold,
    int Neighbours,
    double Alpha,
    int HeldOutCount,
    int HeldOutFlagged
)
{
    /// <summary>
    /// How far the nearest similarity stands out from the mean m of the first <paramref name="neighbours"/> (nearest
    /// first): (s1 - m) / (1 - m), so 0 when they are alike and 1 for an exact match. Empty slots (-infinity: a
    /// training set smaller than the neighbourhood) are left out; with a single record there is no contrast (0).
    /// </summary>
    public static float Contrast(ReadOnlySpan<float> nearestFirst, int neighbours)
    {
        var (sum, count) = (0.0, 0);
        for (var i = 0; i < Math.Min(neighbours, nearestFirst.Length) && float.IsFinite(nearestFirst[i]); i++, count++)
            sum += nearestFirst[i];
        if (count < 2)
            return 0;
        var mean = sum / count;
        // The small margin keeps an exact match with exact duplicates finite.
        return (float)((nearestFirst[0] - mean) / (1.0001 - mean));
    }

    public bool Links(float similarity, float contrast) =>
        similarity > SimilarityThreshold || contrast > ContrastThreshold;

    /// <summary>
    /// Sets both thresholds at the same rank j of their held-out scores (each alone would flag at most j), with j the
    /// largest rank at which the two together flag at most what alpha leaves them (<see
    /// cref="ThresholdCalibration.Allowed"/>: the near-copy rule's <paramref name="copiesLeftOut"/> count against it).
    /// </summary>
    public static LinkRule Calibrate(
        IReadOnlyList<float> similarity,
        IReadOnlyList<float> contrast,
        int neighbours,
        double alpha,
        int copiesLeftOut = 0
    )
    {
        if (alpha is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(alpha), "alpha must be strictly between 0 and 1.");
        var n = similarity.Count;
        if (n == 0)
            throw new ArgumentException("Calibration needs held-out images.");
        if (contrast.Count != n)
            throw new ArgumentException("One contrast per similarity is needed.");
        var bySimilarity = similarity.OrderByDescending(s => s).ToArray();
        var byContrast = contrast.OrderByDescending(c => c).ToArray();
        var allowed = ThresholdCalibration.Allowed(alpha, n, copiesLeftOut);
        LinkRule At(int rank)
        {
            var (s, c) = (bySimilarity[Math.Min(rank, n - 1)], byContrast[Math.Min(rank, n - 1)]);
            var flagged = Enumerable.Range(0, n).Count(i => similarity[i] > s || contrast[i] > c);
            return new LinkRule(s, c, neighbours, alpha, n, flagged);
        }
        // The union's count grows with the rank: binary search for the last rank within the allowance.
        var (low, high) = (0, allowed);
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            if (At(middle).HeldOutFlagged <= allowed)
                low = middle;
            else
                high = middle - 1;
        }
        return At(low);
    }
}
