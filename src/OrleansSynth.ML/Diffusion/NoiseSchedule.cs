using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Diffusion;

/// <summary>The forward-process variances and the quantities derived from them, as float64 arrays.</summary>
public sealed class NoiseSchedule
{
    public NoiseSchedule(NoiseScheduleKind kind, int timesteps)
    {
        if (timesteps < 2)
            throw new ArgumentOutOfRangeException(nameof(timesteps), "A schedule needs at least 2 timesteps.");
        Kind = kind;
        Timesteps = timesteps;
        Betas = kind switch
        {
            NoiseScheduleKind.Linear => LinearBetas(timesteps),
            NoiseScheduleKind.Cosine => CosineBetas(timesteps),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        AlphaBars = new double[timesteps];
        var product = 1.0;
        for (var t = 0; t < timesteps; t++)
        {
            product *= 1.0 - Betas[t];
            AlphaBars[t] = product;
        }
    }

    public NoiseScheduleKind Kind { get; }
    public int Timesteps { get; }
    public double[] Betas { get; }

    /// <summary>Cumulative product of (1 - beta) up to and including t.</summary>
    public double[] AlphaBars { get; }

    public double AlphaBarBefore(int t) => t > 0 ? AlphaBars[t - 1] : 1.0;

    /// <summary>sqrt(alpha-bar_t) and sqrt(1 - alpha-bar_t) gathered for a batch of timesteps, shaped
    /// [B,1,1,1].</summary>
    public (Tensor SignalScale, Tensor NoiseScale) ScalesFor(Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var alphaBars = tensor(AlphaBars, dtype: float32, device: timesteps.device).index_select(0, timesteps);
        var signal = sqrt(alphaBars).view(-1, 1, 1, 1);
        var noise = sqrt(alphaBars.SubtractedFrom(1)).view(-1, 1, 1, 1);
        return (signal.MoveToOuterDisposeScope(), noise.MoveToOuterDisposeScope());
    }

    private static double[] LinearBetas(int timesteps)
    {
        // The 1e-4..0.02 range was tuned for 1000 steps; scale it so shorter schedules still end near pure noise.
        var scale = 1000.0 / timesteps;
        var (start, end) = (scale * 1e-4, Math.Min(scale * 0.02, 0.999));
        return Enumerable.Range(0, timesteps).Select(i => start + (end - start) * i / (timesteps - 1)).ToArray();
    }

    private static double[] CosineBetas(int timesteps, double offset = 0.008)
    {
        static double F(double u, double s) => Math.Pow(Math.Cos((u + s) / (1 + s) * Math.PI / 2), 2);
        var f0 = F(0, offset);
        return Enumerable
            .Range(0, timesteps)
            .Select(i =>
            {
                var next = F((i + 1.0) / timesteps, offset) / f0;
                var current = F((double)i / timesteps, offset) / f0;
                return Math.Min(1 - next / current, 0.999);
            })
            .ToArray();
    }
}
