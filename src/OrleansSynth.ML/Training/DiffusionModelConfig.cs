using System.Text.Json;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;

namespace OrleansSynth.ML.Training;

/// <summary>Everything needed to rebuild a trained diffusion model: network shape, forward process,
/// optimisation.</summary>
public sealed record DiffusionModelConfig
{
    public UNetConfig Model { get; init; } = new();
    public DiffusionConfig Diffusion { get; init; } = new();
    public TrainingConfig Training { get; init; } = new();

    /// <summary>True when a run saved with this config can continue as <paramref name="other"/>: everything but the
    /// step target and the arithmetic matches (a saved run keeps the arithmetic its checkpoint names, which an
    /// unsettled config leaves open).</summary>
    public bool CanResumeAs(DiffusionModelConfig other) => Canonical(this) == Canonical(other);

    // Records compare arrays by reference, so compare the serialised form instead.
    private static string Canonical(DiffusionModelConfig config) =>
        JsonSerializer.Serialize(
            config with
            {
                Training = config.Training with { Steps = 0, BFloat16 = null },
            },
            DiffusionCheckpoint.JsonOptions
        );
}
