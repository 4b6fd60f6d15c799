using OrleansSynth.Abstractions;
using OrleansSynth.ML.Diffusion;

namespace OrleansSynth.Grains.Sampling;

/// <summary>The ML library's sampler for a job's <see cref="DiffusionSamplerKind"/>.</summary>
internal static class DiffusionSamplers
{
    /// <param name="steps">Capped at what the checkpoint's schedule allows, so a spec written for 1,000 timesteps runs on a shorter one.</param>
    public static IDiffusionSampler Create(DiffusionSamplerKind kind, GaussianDiffusion diffusion, int steps) => kind switch
    {
        DiffusionSamplerKind.Ddim => new DdimSampler(diffusion, Math.Min(steps, diffusion.Schedule.Timesteps)),
        DiffusionSamplerKind.DpmSolverPlusPlus => new DpmSolverSampler(diffusion, Math.Min(steps, diffusion.Schedule.Timesteps - 1)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown sampler."),
    };
}
