using OrleansSynth.ML.Audit;
using TorchSharp;
using static OrleansSynth.Benchmarks.RoundTiming;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// The audit's pairwise scan against matrix products of the same tiles alone (same FLOPs, no top-k, no merge), in one
/// process, and the scan's peak memory over the embeddings it reads. Two baselines: one plain product per tile (what
/// the similarities cost without the scan), and the same products in the scan's blocks of rows (what its selection
/// and merge cost on top of its own products).
/// </summary>
internal static class ScanBenchmark
{
    /// <param name="rounds">Each round times the three in turn; the medians are compared, since single runs on a
    /// shared 2-core machine varied by half from one run to the next.</param>
    public static void Run(int syntheticCount, int realCount, int dimension, int rounds = 5, int k = 5)
    {
        Console.WriteLine(
            $"scan benchmark: {syntheticCount} synthetic x {realCount} real, dim {dimension}, top-{k}, torch "
                + $"threads {get_num_threads()}, {rounds} rounds"
        );
        manual_seed(1);
        using var synthetic = nn.functional.normalize(randn(syntheticCount, dimension), dim: 1);
        using var real = nn.functional.normalize(randn(realCount, dimension), dim: 1);
        var embeddingBytes = (long)(syntheticCount + realCount) * dimension * sizeof(float);
        var tiles = ScanTile.Plan(
            syntheticCount,
            realCount,
            PairwiseScan.DefaultSyntheticTile,
            PairwiseScan.DefaultRealTile
        );
        var flops = 2.0 * syntheticCount * realCount * dimension;

        // Warm up every path on one tile.
        PairwiseScan.RunTile(synthetic, real, tiles[0], k);
        PlainProducts(synthetic, real, tiles.Take(1));
        BlockedProducts(synthetic, real, tiles.Take(1));

        var baselineRss = PeakResidentBytes();
        ResetPeak();
        var before = CurrentResidentBytes();
        GC.KeepAlive(PairwiseScan.Run(synthetic, real, k));
        var scanPeak = PeakResidentBytes();

        var (plain, blocked, scan) = (new List<double>(), new List<double>(), new List<double>());
        for (var round = 1; round <= rounds; round++)
        {
            plain.Add(Seconds(() => PlainProducts(synthetic, real, tiles)));
            blocked.Add(Seconds(() => BlockedProducts(synthetic, real, tiles)));
            scan.Add(Seconds(() => GC.KeepAlive(PairwiseScan.Run(synthetic, real, k))));
            Console.WriteLine(
                $"round {round}: plain {plain[^1]:F2} s, blocked {blocked[^1]:F2} s, scan {scan[^1]:F2} s"
            );
        }

        var (plainSeconds, blockedSeconds, scanSeconds) = (Median(plain), Median(blocked), Median(scan));
        var pairs = (double)syntheticCount * realCount;
        Console.WriteLine("medians:");
        Console.WriteLine(
            $"plain products      : {plainSeconds, 7:F2} s  {flops / plainSeconds / 1e9, 6:F1} GFLOP/s  (one per "
                + $"{tiles[0].SyntheticCount} x {tiles[0].RealCount} tile)"
        );
        Console.WriteLine(
            $"blocked products    : {blockedSeconds, 7:F2} s  {flops / blockedSeconds / 1e9, 6:F1} GFLOP/s  (the "
                + $"scan's blocks of {PairwiseScan.ColumnsPerProduct} real columns)"
        );
        Console.WriteLine(
            $"tiled scan + top-{k}  : {scanSeconds, 7:F2} s  {flops / scanSeconds / 1e9, 6:F1} GFLOP/s  "
                + $"{pairs / scanSeconds / 1e6:F0} M pairs/s"
        );
        Console.WriteLine($"scan / plain products rate  : {plainSeconds / scanSeconds:P1} (keep >= 90%)");
        Console.WriteLine($"scan / blocked products rate: {blockedSeconds / scanSeconds:P1}");
        Console.WriteLine($"embeddings          : {embeddingBytes / 1048576.0:F0} MiB");
        Console.WriteLine(
            $"resident before scan: {before / 1048576.0:F0} MiB (peak before {baselineRss / 1048576.0:F0} MiB)"
        );
        Console.WriteLine(
            $"peak during scan    : {scanPeak / 1048576.0:F0} MiB (growth {(scanPeak - before) / 1048576.0:F0} MiB)"
        );
    }

    // Products on the CPU are complete when mm returns; nothing reads them afterwards.
    private static void PlainProducts(Tensor synthetic, Tensor real, IEnumerable<ScanTile> tiles)
    {
        using var noGrad = no_grad();
        foreach (var tile in tiles)
        {
            using var scope = NewDisposeScope();
            mm(
                synthetic.narrow(0, tile.SyntheticStart, tile.SyntheticCount),
                real.narrow(0, tile.RealStart, tile.RealCount).t()
            );
        }
    }

    private static void BlockedProducts(Tensor synthetic, Tensor real, IEnumerable<ScanTile> tiles)
    {
        foreach (var tile in tiles)
        {
            using var block = synthetic.narrow(0, tile.SyntheticStart, tile.SyntheticCount);
            using var candidates = real.narrow(0, tile.RealStart, tile.RealCount);
            PairwiseScan.ForEachProduct(block, candidates, (_, _) => { });
        }
    }

    private static long CurrentResidentBytes() => StatusField("VmRSS:");

    private static long PeakResidentBytes() => StatusField("VmHWM:");

    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux).
    private static void ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static long StatusField(string name)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(name));
        return line is null ? 0 : long.Parse(line[name.Length..].Trim().Split(' ')[0]) * 1024;
    }
}
