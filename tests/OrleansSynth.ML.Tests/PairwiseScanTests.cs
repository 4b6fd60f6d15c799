using OrleansSynth.ML.Audit;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

public class PairwiseScanTests
{
    [Theory]
    [InlineData(37, 101, 8, 16)] // tiles divide neither size
    [InlineData(32, 96, 8, 32)] // tiles divide both
    [InlineData(5, 7, 64, 64)] // one tile larger than everything
    [InlineData(20, 50, 1, 1)] // one pair per tile
    [InlineData(20, 3000, 16, 2900)] // wide real blocks: whole SIMD blocks and a tail, one block of 100
    public void TiledScanEqualsBruteForce(int syntheticCount, int realCount, int syntheticTile, int realTile)
    {
        manual_seed(syntheticCount * 1000 + realCount);
        using var synthetic = nn.functional.normalize(randn(syntheticCount, 16), dim: 1);
        using var real = nn.functional.normalize(randn(realCount, 16), dim: 1);
        var tiled = PairwiseScan.Run(synthetic, real, k: 3, syntheticTile, realTile);

        using var full = mm(synthetic, real.t());
        var (values, indices) = full.topk(3, dim: 1);
        using (values)
        using (indices)
        {
            Assert.Equal(indices.data<long>().ToArray().Select(i => (int)i), tiled.RealIndices);
            var expected = values.data<float>().ToArray();
            // A tolerance, not rounded digits: tiles sum in another order, and two values a hair apart can round apart.
            for (var i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], tiled.Scores[i], 1e-5f);
        }
    }

    [Fact]
    public void TilesMergedInAnyOrderGiveTheSameResult()
    {
        manual_seed(9);
        using var synthetic = nn.functional.normalize(randn(30, 8), dim: 1);
        using var real = nn.functional.normalize(randn(70, 8), dim: 1);
        var tiles = ScanTile.Plan(30, 70, 7, 9);
        var forward = TopKMatches.Empty(0, 30, 4);
        var backward = TopKMatches.Empty(0, 30, 4);
        foreach (var tile in tiles)
            forward.MergeFrom(PairwiseScan.RunTile(synthetic, real, tile, 4));
        foreach (var tile in tiles.Reverse())
            backward.MergeFrom(PairwiseScan.RunTile(synthetic, real, tile, 4));
        Assert.Equal(forward.RealIndices, backward.RealIndices);
        Assert.Equal(forward.Scores, backward.Scores);
    }

    [Fact]
    public void ATileScannedFromItsSlicesAloneMatchesTheWholeScan()
    {
        manual_seed(11);
        using var syntheticTensor = nn.functional.normalize(randn(30, 8), dim: 1);
        using var realTensor = nn.functional.normalize(randn(70, 8), dim: 1);
        var synthetic = EmbeddingSet.FromTensor(
            syntheticTensor,
            Enumerable.Range(0, 30).Select(i => $"s{i}").ToArray(),
            "e"
        );
        var real = EmbeddingSet.FromTensor(realTensor, Enumerable.Range(0, 70).Select(i => $"r{i}").ToArray(), "e");
        using var files = new TestFiles();
        synthetic.Save(files.PathOf("synthetic.embeddings"));
        real.Save(files.PathOf("real.embeddings"));
        var whole = PairwiseScan.Run(syntheticTensor, realTensor, k: 3);
        var merged = TopKMatches.Empty(0, 30, 3);
        foreach (var tile in ScanTile.Plan(30, 70, 7, 9))
        {
            // As a silo's tile does: only its rows are read from the files and become tensors.
            using var block = EmbeddingSet.ReadRows(
                files.PathOf("synthetic.embeddings"),
                tile.SyntheticStart,
                tile.SyntheticCount,
                CPU
            );
            using var candidates = EmbeddingSet.ReadRows(
                files.PathOf("real.embeddings"),
                tile.RealStart,
                tile.RealCount,
                CPU
            );
            merged.MergeFrom(PairwiseScan.RunSlices(block, candidates, tile, 3));
        }
        Assert.Equal(whole.RealIndices, merged.RealIndices);
        // Same pairs; a [7 x 9] product may round differently from the whole one in the last bit.
        Assert.All(whole.Scores.Zip(merged.Scores), pair => Assert.Equal(pair.First, pair.Second, 1e-5f));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            EmbeddingSet.ReadRows(files.PathOf("real.embeddings"), 60, 11).Dispose()
        );
        var loaded = EmbeddingSet.Load(files.PathOf("real.embeddings"));
        Assert.Equal(real.Values, loaded.Values);
        Assert.Equal(real.RecordIds, loaded.RecordIds);
    }

    [Fact]
    public void PlanCoversEveryPairExactlyOnce()
    {
        var tiles = ScanTile.Plan(10, 23, 4, 5);
        var covered = new int[10, 23];
        foreach (var t in tiles)
            for (var s = t.SyntheticStart; s < t.SyntheticStart + t.SyntheticCount; s++)
            for (var r = t.RealStart; r < t.RealStart + t.RealCount; r++)
                covered[s, r]++;
        Assert.All(covered.Cast<int>(), c => Assert.Equal(1, c));
        Assert.Equal(3 * 5, tiles.Count);
    }
}
