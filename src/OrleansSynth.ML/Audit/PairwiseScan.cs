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
    /// Synthetic rows per matrix product within a tile: 256 x 8,192 similarities (8 MiB) are still in cache when the
    /// top-k reads them, where a whole tile's 32 MiB product is not (measured 2.5 against 4.6 ms of selection per tile).
    /// </summary>
    public const int RowsPerProduct = 256;

    /// <summary>One tile: its synthetic rows against its real block. Indices in the result are global real indices.</summary>
    public static TopKMatches RunTile(Tensor synthetic, Tensor real, ScanTile tile, int k)
    {
        using var block = synthetic.narrow(0, tile.SyntheticStart, tile.SyntheticCount);
        using var candidates = real.narrow(0, tile.RealStart, tile.RealCount);
        return RunSlices(block, candidates, tile, k);
    }

    /// <summary>One tile from its slices alone (its synthetic rows, its real block), as a tile on a silo reads them.</summary>
    public static TopKMatches RunSlices(Tensor block, Tensor candidates, ScanTile tile, int k)
    {
        if (block.shape[0] != tile.SyntheticCount || candidates.shape[0] != tile.RealCount)
            throw new ArgumentException($"slices of {block.shape[0]} and {candidates.shape[0]} rows for a tile of {tile.SyntheticCount} x {tile.RealCount}.");
        var result = TopKMatches.Empty(tile.SyntheticStart, tile.SyntheticCount, k);
        ForEachProduct(block, candidates, (start, similarities) =>
        {
            var slots = (int)similarities.shape[0] * k;
            RowTopK.Select(similarities, k, result.Scores.AsSpan(start * k, slots), result.RealIndices.AsSpan(start * k, slots), tile.RealStart);
        });
        return result;
    }

    /// <summary>
    /// The similarities of <paramref name="block"/>'s rows to every candidate, <see cref="RowsPerProduct"/> rows at a
    /// time: <paramref name="use"/> gets each product with its first row, and the product is freed after it.
    /// </summary>
    public static void ForEachProduct(Tensor block, Tensor candidates, Action<int, Tensor> use)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var transposed = candidates.t();
        for (var start = 0; start < block.shape[0]; start += RowsPerProduct)
        {
            using var rowScope = NewDisposeScope();
            use(start, mm(block.narrow(0, start, Math.Min(RowsPerProduct, block.shape[0] - start)), transposed));
        }
    }

    /// <summary>Runs every tile of the plan in-process and reduces them; the cluster runs the same tiles on many silos.</summary>
    public static TopKMatches Run(Tensor synthetic, Tensor real, int k, int syntheticTile = DefaultSyntheticTile, int realTile = DefaultRealTile,
        Action<int, int>? progress = null)
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
            throw new ArgumentException($"Embeddings must be [N, D] with the same D; got [{string.Join(",", synthetic.shape)}] and [{string.Join(",", real.shape)}].");
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), "k must be at least 1.");
        if (real.shape[0] == 0) throw new ArgumentException("There are no real embeddings to scan against.");
    }
}
