namespace OrleansSynth.ML.Diffusion;

public enum NoiseScheduleKind
{
    /// <summary>Betas linear from 1e-4 to 0.02 (Ho et al. 2020), scaled to the step count.</summary>
    Linear,

    /// <summary>alpha-bar follows a squared cosine (Nichol and Dhariwal 2021).</summary>
    Cosine,
}
