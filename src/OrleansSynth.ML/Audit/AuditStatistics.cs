namespace OrleansSynth.ML.Audit;

/// <summary>A proportion with its 95% Wilson score interval.</summary>
public sealed record Proportion(int Successes, int Trials, double Rate, double Lower, double Upper)
{
    public static Proportion Wilson(int successes, int trials, double z = 1.959964)
    {
        if (trials == 0)
            return new Proportion(0, 0, 0, 0, 1);
        var p = (double)successes / trials;
        var denominator = 1 + z * z / trials;
        var centre = (p + z * z / (2 * trials)) / denominator;
        var half = z * Math.Sqrt(p * (1 - p) / trials + z * z / (4.0 * trials * trials)) / denominator;
        return new Proportion(successes, trials, p, Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}

/// <summary>Summary and histogram of a sample of scores.</summary>
public sealed record Distribution(
    int Count,
    double Mean,
    double Min,
    double P05,
    double Median,
    double P95,
    double Max,
    double[] BinEdges,
    int[] Counts
)
{
    public static Distribution Of(IReadOnlyList<double> values, double low, double high, int bins = 40)
    {
        if (values.Count == 0)
            return new Distribution(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, [], []);
        var sorted = values.Order().ToArray();
        double Quantile(double q) => sorted[(int)Math.Clamp(Math.Round(q * (sorted.Length - 1)), 0, sorted.Length - 1)];
        var edges = Enumerable.Range(0, bins + 1).Select(i => low + (high - low) * i / bins).ToArray();
        var counts = new int[bins];
        foreach (var v in sorted)
            counts[Math.Clamp((int)((v - low) / (high - low) * bins), 0, bins - 1)]++;
        return new Distribution(
            sorted.Length,
            sorted.Average(),
            sorted[0],
            Quantile(0.05),
            Quantile(0.5),
            Quantile(0.95),
            sorted[^1],
            edges,
            counts
        );
    }
}
