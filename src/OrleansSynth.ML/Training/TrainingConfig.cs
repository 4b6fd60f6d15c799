using System.Text.Json.Serialization;
using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Training;

/// <summary>Optimisation settings of one diffusion training run.</summary>
public sealed record TrainingConfig
{
    public int Steps { get; init; } = 2000;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Linear learning-rate warm-up, in steps.</summary>
    public int WarmupSteps { get; init; } = 100;
    public double EmaDecay { get; init; } = 0.995;

    /// <summary>After warm-up the learning rate follows a half cosine down to zero at <see cref="Steps"/>; false keeps
    /// it flat.</summary>
    public bool CosineDecay { get; init; } = true;

    /// <summary>Min-SNR loss weighting's gamma (<see cref="Diffusion.GaussianDiffusion.TrainingLoss"/>); 0 weights
    /// every timestep alike.</summary>
    public double MinSnrGamma { get; init; } = 5;

    /// <summary>Probability of replacing a label by the null label, which trains the guidance branch.</summary>
    public double LabelDropout { get; init; } = 0.1;
    public long Seed { get; init; } = 1;

    /// <summary>Write a checkpoint every this many steps (0: only at the end).</summary>
    public int CheckpointEvery { get; init; } = 500;

    /// <summary>Report progress every this many steps.</summary>
    public int ReportEvery { get; init; } = 25;

    /// <summary>
    /// Whether each step's forward and backward passes run on a bfloat16 copy of the model (<see
    /// cref="BFloat16WorkingCopy"/>; the weights, EMA and checkpoints stay 32-bit). Null, the default: where the
    /// device is a CPU that multiplies bfloat16 natively. <see cref="ForDevice"/> settles it when a trainer is made,
    /// so checkpoints name the arithmetic that ran and a resumed run keeps it.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? BFloat16 { get; init; }

    /// <summary>This config with <see cref="BFloat16"/> settled for <paramref name="device"/> (a GPU keeps 32-bit
    /// floats); settling twice changes nothing.</summary>
    public TrainingConfig ForDevice(Device device) =>
        this with
        {
            BFloat16 = device.type == DeviceType.CPU && (BFloat16 ?? BFloat16Arithmetic.IsNativeOnCpu),
        };

    public void Validate()
    {
        if (Steps < 1)
            throw new ArgumentException($"Steps must be positive, was {Steps}.");
        if (BatchSize < 1)
            throw new ArgumentException($"BatchSize must be positive, was {BatchSize}.");
        if (LearningRate <= 0)
            throw new ArgumentException($"LearningRate must be positive, was {LearningRate}.");
        if (EmaDecay is < 0 or >= 1)
            throw new ArgumentException($"EmaDecay must be in [0, 1), was {EmaDecay}.");
        if (LabelDropout is < 0 or > 1)
            throw new ArgumentException($"LabelDropout must be in [0, 1], was {LabelDropout}.");
        if (MinSnrGamma < 0)
            throw new ArgumentException($"MinSnrGamma must be 0 (off) or positive, was {MinSnrGamma}.");
    }
}
