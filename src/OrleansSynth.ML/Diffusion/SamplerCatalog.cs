namespace OrleansSynth.ML.Diffusion;

/// <summary>
/// The samplers by the names specs, command lines and benchmarks use, built one way everywhere: the step count is
/// capped at what the schedule allows, so settings written for 1,000 timesteps run on a shorter schedule.
/// </summary>
public static class SamplerCatalog
{
    public const string Ddpm = "ddpm";
    public const string Ddim = "ddim";
    public const string DpmSolverPlusPlus = "dpm-solver++";

    /// <summary>Every name <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = [Ddim, DpmSolverPlusPlus, Ddpm];

    /// <param name="steps">Denoising steps (DDPM always takes every timestep).</param>
    /// <param name="eta">DDIM's stochasticity (0: deterministic); the other samplers ignore it.</param>
    public static IDiffusionSampler Create(string name, GaussianDiffusion diffusion, int steps, double eta = 0) =>
        name switch
        {
            Ddpm => new DdpmSampler(diffusion),
            Ddim => new DdimSampler(diffusion, Math.Min(steps, diffusion.Schedule.Timesteps), eta),
            // Second order needs a step before the last timestep to look back on.
            DpmSolverPlusPlus => new DpmSolverSampler(diffusion, Math.Min(steps, diffusion.Schedule.Timesteps - 1)),
            _ => throw new ArgumentException(
                $"Unknown sampler '{name}'; use {string.Join(", ", Names)}.",
                nameof(name)
            ),
        };
}
