using System.Diagnostics;
using OrleansSynth.ML.Audit;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// The audit's pairwise scan against plain matrix products of the same tiles in the same blocks of rows (same FLOPs,
/// no top-k, no merge), in one process, and the scan's peak memory over the embeddings it reads.
/// </summary>
internal static class ScanBenchmark
{
    public static void Run(int syntheticCount, int realCount, int dimension, int k = 5)
    {
        Console.WriteLine($"scan benchmark: {syntheticCount} synthetic x {realCount} real, dim {dimension}, top-{k}, torch threads {get_num_threads()}");
        manual_seed(1);
        using var synthetic = nn.functional.normalize(randn(syntheticCount, dimension), dim: 1);
        using var real = nn.functional.normalize(randn(realCount, dimension), dim: 1);
        var embeddingBytes = (long)(syntheticCount + realCount) * dimension * sizeof(float);
        var tiles = ScanTile.Plan(syntheticCount, realCount, PairwiseScan.DefaultSyntheticTile, PairwiseScan.DefaultRealTile);
        var flops = 2.0 * syntheticCount * realCount * dimension;

        // Warm up both paths on one tile.
        PairwiseScan.RunTile(synthetic, real, tiles[0], k);
        MatrixProductOnly(synthetic, real, tiles.Take(1));

        var baselineRss = PeakResidentBytes();
        ResetPeak();
        var clock = Stopwatch.StartNew();
        MatrixProductOnly(synthetic, real, tiles);
        var matmulSeconds = clock.Elapsed.TotalSeconds;

        ResetPeak();
        var before = CurrentResidentBytes();
        clock.Restart();
        var result = PairwiseScan.Run(synthetic, real, k);
        var scanSeconds = clock.Elapsed.TotalSeconds;
        var scanPeak = PeakResidentBytes();
        GC.KeepAlive(result);

        var pairs = (double)syntheticCount * realCount;
        Console.WriteLine($"matrix product only : {matmulSeconds,7:F2} s  {flops / matmulSeconds / 1e9,6:F1} GFLOP/s");
        Console.WriteLine($"tiled scan + top-{k}  : {scanSeconds,7:F2} s  {flops / scanSeconds / 1e9,6:F1} GFLOP/s  {pairs / scanSeconds / 1e6:F0} M pairs/s");
        Console.WriteLine($"scan / matmul rate  : {matmulSeconds / scanSeconds:P1}");
        Console.WriteLine($"embeddings          : {embeddingBytes / 1048576.0:F0} MiB");
        Console.WriteLine($"resident before scan: {before / 1048576.0:F0} MiB (peak before the timed runs {baselineRss / 1048576.0:F0} MiB)");
        Console.WriteLine($"peak during scan    : {scanPeak / 1048576.0:F0} MiB (growth {(scanPeak - before) / 1048576.0:F0} MiB)");
    }

    private static void MatrixProductOnly(Tensor synthetic, Tensor real, IEnumerable<ScanTile> tiles)
    {
        foreach (var tile in tiles)
        {
            using var block = synthetic.narrow(0, tile.SyntheticStart, tile.SyntheticCount);
            using var candidates = real.narrow(0, tile.RealStart, tile.RealCount);
            // The scan's own products, in its blocks of rows; the sum forces completion, as the scan's top-k does.
            PairwiseScan.ForEachProduct(block, candidates, (_, product) => product.sum().item<float>());
        }
    }

    private static long CurrentResidentBytes() => StatusField("VmRSS:");
    private static long PeakResidentBytes() => StatusField("VmHWM:");

    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux).
    private static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static long StatusField(string name)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(name));
        return line is null ? 0 : long.Parse(line[name.Length..].Trim().Split(' ')[0]) * 1024;
    }
}
