namespace OrleansSynth.Abstractions;

/// <summary>Which solver turns noise into samples; both evaluate the model once per step (twice with
/// guidance).</summary>
public enum DiffusionSamplerKind
{
    /// <summary>DDIM, deterministic (eta 0).</summary>
    Ddim,

    /// <summary>DPM-Solver++(2M): second order, so fewer steps reach the same quality.</summary>
    DpmSolverPlusPlus,
}
