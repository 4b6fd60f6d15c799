using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;

namespace OrleansSynth.ML.Training;

/// <summary>Everything needed to rebuild a trained diffusion model: network shape, forward process, optimisation.</summary>
public sealed record DiffusionModelConfig
{
    public UNetConfig Model { get; init; } = new();
    public DiffusionConfig Diffusion { get; init; } = new();
    public TrainingConfig Training { get; init; } = new();
}
