using OrleansSynth.Abstractions;
using OrleansSynth.ML.Diffusion;

namespace OrleansSynth.Grains.Sampling;

/// <summary>The ML library's sampler for a job's <see cref="DiffusionSamplerKind"/>.</summary>
internal static class DiffusionSamplers
{
    public static IDiffusionSampler Create(DiffusionSamplerKind kind, GaussianDiffusion diffusion, int steps) =>
        SamplerCatalog.Create(Name(kind), diffusion, steps);

    /// <summary>The sampler's name in the ML library's catalog (and in a released model's config.json).</summary>
    public static string Name(DiffusionSamplerKind kind) =>
        kind switch
        {
            DiffusionSamplerKind.Ddim => SamplerCatalog.Ddim,
            DiffusionSamplerKind.DpmSolverPlusPlus => SamplerCatalog.DpmSolverPlusPlus,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown sampler."),
        };
}
