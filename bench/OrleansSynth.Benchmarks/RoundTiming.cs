using System.Diagnostics;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// What the benchmarks that time in rounds share: single runs on a shared 2-core machine vary by half from one run to
/// the next, so each round times every contender once and medians are compared.
/// </summary>
internal static class RoundTiming
{
    /// <summary>Wall-clock seconds <paramref name="action"/> took.</summary>
    public static double Seconds(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>The middle value (the upper of the two middle ones for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
