namespace OrleansSynth.ML.Diffusion;

/// <summary>Forward process settings shared by training and sampling.</summary>
public sealed record DiffusionConfig
{
    public int Timesteps { get; init; } = 1000;
    public NoiseScheduleKind Schedule { get; init; } = NoiseScheduleKind.Cosine;
}
