using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Every synthetic embedding against every real one by cosine similarity (a matrix product of unit vectors),
/// tile by tile with a top-k per synthetic row, so the full similarity matrix never exists.
/// </summary>
public static class PairwiseScan
{
    public const int DefaultSyntheticTile = 1024;
    public const int DefaultRealTile = 8192;

    /// <summary>
    /// Real columns per matrix product within a tile on a CPU: a 1,024 x 1,024 product (4 MiB) is still in cache when
    /// the top-k reads it, and a narrow product of all the tile's synthetic rows is also faster than a whole tile's
    /// (bench scan, 20,000 x 60,000, dim 128: 1.7-1.9 s of such products against 1.9-2.9 s in one product per tile;
    /// blocks of 256 synthetic rows took 2.6 s). A GPU takes the whole tile in one product.
    /// </summary>
    public const int ColumnsPerProduct = 1024;

    /// <summary>One tile: its synthetic rows against its real block. Indices in the result are global real
    /// indices.</summary>
    public static TopKMatches RunTile(Tensor synthetic, Tensor real, ScanTile tile, int k)
    {
        using var block = synthetic.narrow(0, tile.SyntheticStart, tile.SyntheticCount);
        using var candidates = real.narrow(0, tile.RealStart, tile.RealCount);
        return RunSlices(block, candidates, tile, k);
    }

    /// <summary>One tile from its slices alone (its synthetic rows, its real block), as a tile on a silo reads
    /// them.</summary>
    public static TopKMatches RunSlices(Tensor block, Tensor candidates, ScanTile tile, int k)
    {
        if (block.shape[0] != tile.SyntheticCount || candidates.shape[0] != tile.RealCount)
            throw new ArgumentException(
                $"slices of {block.shape[0]} and {candidates.shape[0]} rows for a tile of {tile.SyntheticCount} x "
                    + $"{tile.RealCount}."
            );
        var result = TopKMatches.Empty(tile.SyntheticStart, tile.SyntheticCount, k);
        // Column blocks in order, each folded into the rows' slots, so ties still go to the lower real index.
        ForEachProduct(block, candidates, (column, similarities) =>
            RowTopK.SelectInto(similarities, k, result.Scores, result.RealIndices, tile.RealStart + column)
        );
        return result;
    }

    /// <summary>
    /// The similarities of every row of <paramref name="block"/> to the candidates, <see cref="ColumnsPerProduct"/>
    /// candidates at a time on a CPU: <paramref name="use"/> gets each product with its first candidate, in order, and
    /// the product is freed after it.
    /// </summary>
    public static void ForEachProduct(Tensor block, Tensor candidates, Action<int, Tensor> use)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var count = (int)candidates.shape[0];
        var width = block.device.type == DeviceType.CPU ? ColumnsPerProduct : count;
        for (var start = 0; start < count; start += width)
        {
            using var productScope = NewDisposeScope();
            use(start, mm(block, candidates.narrow(0, start, Math.Min(width, count - start)).t()));
        }
    }

    /// <summary>Runs every tile of the plan in-process and reduces them; the cluster runs the same tiles on many
    /// silos.</summary>
    public static TopKMatches Run(
        Tensor synthetic,
        Tensor real,
        int k,
        int syntheticTile = DefaultSyntheticTile,
        int realTile = DefaultRealTile,
        Action<int, int>? progress = null
    )
    {
        CheckInputs(synthetic, real, k);
        var count = (int)synthetic.shape[0];
        var tiles = Audit.ScanTile.Plan(count, (int)real.shape[0], syntheticTile, realTile);
        var result = TopKMatches.Empty(0, count, k);
        for (var i = 0; i < tiles.Count; i++)
        {
            result.MergeFrom(RunTile(synthetic, real, tiles[i], k));
            progress?.Invoke(i + 1, tiles.Count);
        }
        return result;
    }

    private static void CheckInputs(Tensor synthetic, Tensor real, int k)
    {
        if (synthetic.dim() != 2 || real.dim() != 2 || synthetic.shape[1] != real.shape[1])
            throw new ArgumentException(
                $"Embeddings must be [N, D] with the same D; got [{string.Join(",", synthetic.shape)}] and "
                    + $"[{string.Join(",", real.shape)}]."
            );
        if (k < 1)
            throw new ArgumentOutOfRangeException(nameof(k), "k must be at least 1.");
        if (real.shape[0] == 0)
            throw new ArgumentException("There are no real embeddings to scan against.");
    }
}
