using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Training;

namespace OrleansSynth.ML.Tests;

/// <summary>Small but real configurations: the production code paths at test speed.</summary>
internal static class TinyModels
{
    /// <summary>A one-layer text encoder for prompted models.</summary>
    public static readonly TextEncoderConfig Text = new()
    {
        Dim = 32,
        Heads = 2,
        Layers = 1,
        MaxTokens = 16,
    };

    public static DiffusionModelConfig Diffusion(int steps, int checkpointEvery = 0, long seed = 1) =>
        new()
        {
            Model = new UNetConfig
            {
                BaseChannels = 16,
                ChannelMultipliers = [1, 2],
                GroupNormGroups = 4,
                NumClasses = 10,
            },
            Diffusion = new DiffusionConfig { Timesteps = 100, Schedule = NoiseScheduleKind.Cosine },
            Training = new TrainingConfig
            {
                Steps = steps,
                BatchSize = 32,
                LearningRate = 2e-3,
                WarmupSteps = 20,
                Seed = seed,
                CheckpointEvery = checkpointEvery,
                ReportEvery = 10,
            },
        };
}
