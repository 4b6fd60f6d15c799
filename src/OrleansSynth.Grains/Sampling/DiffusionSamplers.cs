using OrleansSynth.Abstractions;
using OrleansSynth.ML.Diffusion;

namespace OrleansSynth.Grains.Sampling;

/// <summary>The ML library's sampler for a job's <see cref="DiffusionSamplerKind"/>.</summary>
internal static class DiffusionSamplers
{
    public static IDiffusionSampler Create(DiffusionSamplerKind kind, GaussianDiffusion diffusion, int steps) => SamplerCatalog.Create(kind switch
    {
        DiffusionSamplerKind.Ddim => SamplerCatalog.Ddim,
        DiffusionSamplerKind.DpmSolverPlusPlus => SamplerCatalog.DpmSolverPlusPlus,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown sampler."),
    }, diffusion, steps);
}
