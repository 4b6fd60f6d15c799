using TorchSharp.Modules;

namespace OrleansSynth.ML.Training;

/// <summary>
/// Learning rates as a function of the step number alone (no stateful scheduler), so a run resumed from a checkpoint
/// trains exactly as an uninterrupted one.
/// </summary>
public static class LearningRateSchedule
{
    /// <summary>A half cosine from <paramref name="peak"/> at step 0 to zero at <paramref name="steps"/>, zero
    /// after.</summary>
    public static double Cosine(double peak, int step, int steps)
    {
        var progress = Math.Clamp(step / (double)Math.Max(1, steps), 0, 1);
        return peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>A linear warm-up over <paramref name="warmupSteps"/>, then flat or a half cosine to zero at the last
    /// step.</summary>
    public static double WarmupThen(double peak, int step, int steps, int warmupSteps, bool cosineDecay)
    {
        var warmup = Math.Max(1, warmupSteps);
        if (step < warmup)
            return peak * (step + 1.0) / warmup;
        return cosineDecay ? Cosine(peak, step - warmup, steps - warmup) : peak;
    }

    /// <summary>Sets every parameter group of <paramref name="optimizer"/> to <paramref name="rate"/> for the next
    /// step.</summary>
    public static void Apply(OptimizerHelper optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = rate;
    }
}
