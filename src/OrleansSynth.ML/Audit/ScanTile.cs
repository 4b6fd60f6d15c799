namespace OrleansSynth.ML.Audit;

/// <summary>One independent unit of the pairwise scan: a block of synthetic rows against a block of real
/// records.</summary>
public sealed record ScanTile(int SyntheticStart, int SyntheticCount, int RealStart, int RealCount)
{
    /// <summary>Every synthetic x real block; edge tiles are smaller when the tile sizes do not divide the
    /// counts.</summary>
    public static IReadOnlyList<ScanTile> Plan(int syntheticCount, int realCount, int syntheticTile, int realTile)
    {
        if (syntheticTile < 1 || realTile < 1)
            throw new ArgumentOutOfRangeException(nameof(syntheticTile), "Tile sizes must be positive.");
        var tiles = new List<ScanTile>();
        for (var s = 0; s < syntheticCount; s += syntheticTile)
        for (var r = 0; r < realCount; r += realTile)
            tiles.Add(
                new ScanTile(s, Math.Min(syntheticTile, syntheticCount - s), r, Math.Min(realTile, realCount - r))
            );
        return tiles;
    }
}
