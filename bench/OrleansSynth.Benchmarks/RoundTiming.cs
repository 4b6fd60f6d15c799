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

    /// <summary>
    /// Times <paramref name="secondsOf"/> in 32-bit floats and in bfloat16 once a round, in turn, and prints each round
    /// and the medians per step of <paramref name="steps"/>.
    /// </summary>
    public static void CompareArithmetics(string what, int steps, int rounds, Func<bool, double> secondsOf)
    {
        var seconds = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        for (var round = 0; round < rounds; round++)
        {
            // Each round starts with the other one, so neither always meets the machine's first or later minutes.
            foreach (var bf16 in round % 2 == 0 ? new[] { false, true } : [true, false])
                seconds[bf16].Add(secondsOf(bf16));
            Console.WriteLine(
                $"round {round + 1}: float32 {seconds[false][^1]:F1} s, bfloat16 {seconds[true][^1]:F1} s"
            );
        }
        foreach (var (bf16, times) in seconds)
        {
            var median = Median(times);
            var name = bf16 ? "bfloat16" : "float32";
            Console.WriteLine($"{what} {name}: median {median:F1} s, {median * 1000 / steps:F1} ms a step");
        }
    }
}
