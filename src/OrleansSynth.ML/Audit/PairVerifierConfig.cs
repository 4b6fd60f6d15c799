using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>Shape and training of the audit's <see cref="PairVerifier"/>.</summary>
public sealed record PairVerifierConfig
{
    /// <summary>Names the network and its training; part of every cache key.</summary>
    public string Architecture { get; init; } = "pair-cnn-v4-batchnorm";
    public int Width { get; init; } = 32;

    /// <summary>
    /// Whether the convolutions multiply in bfloat16 (<see cref="Models.BFloat16Convolution"/>). Null, the default:
    /// where the training device is a CPU that does so natively (<see cref="Runtime.BFloat16Arithmetic"/>).
    /// <see cref="ForDevice"/> settles it before training, so cache keys, checkpoints and saved models name the
    /// arithmetic that ran, and silos of one CPU kind share them.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? BFloat16 { get; init; }

    /// <summary>This config with <see cref="BFloat16"/> settled for <paramref name="device"/>: true only on a CPU (a
    /// GPU keeps 32-bit floats, as <see cref="Models.BFloat16Convolution"/> does there). Settling twice changes
    /// nothing.</summary>
    public PairVerifierConfig ForDevice(Device device) =>
        this with
        {
            BFloat16 = device.type == DeviceType.CPU && (BFloat16 ?? Runtime.BFloat16Arithmetic.IsNativeOnCpu),
        };

    /// <summary>
    /// 0 turns the verifier off: verdicts then rest on the encoder's link rule. Measured on Fashion-MNIST's planted
    /// compound copies at alpha 2% with the default encoder: 14,000 steps catch 96.2% with 1.7% of unseen images
    /// flagged in 32-bit floats, 96.8% with 1.9% in bfloat16 (95.6% and 94.8% in two trainings of 12,000 in 32-bit
    /// floats, before and after the input was stored channels last); 8,000 steps caught 92.0% (with the encoder of
    /// before; docs/lab-notebook.md).
    /// </summary>
    public int Steps { get; init; } = 14_000;

    /// <summary>Pairs per batch: half copies of their record, half look-alikes of it.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>
    /// Peak learning rate, annealed to zero on a cosine. 3e-3 does not buy the recall in fewer steps: at 12,000 steps
    /// it caught 89.4% of the planted compound copies against 93.2% at 1e-3 (without batch normalisation;
    /// docs/lab-notebook.md).
    /// </summary>
    public double LearningRate { get; init; } = 1e-3;
    public long Seed { get; init; } = 23;

    /// <summary>Negatives are drawn among each record's this many nearest other records under the encoder.</summary>
    public int LookAlikeNeighbours { get; init; } = 8;
    public double CanonicalBlur { get; init; } = 0.5;

    /// <summary>
    /// The changes a copy may carry in training: between the canaries' and the encoder's ranges (measured: wider ranges
    /// teach the verifier to accept look-alikes too, narrower ones to miss compound copies).
    /// </summary>
    public PerturbationRanges Augmentation { get; init; } =
        new()
        {
            MaxShift = 2.5,
            MaxRotationDegrees = 4,
            MaxScale = 0.04,
            MaxBlur = 0.9,
            MaxContrast = 0.15,
            MaxBrightness = 0.12,
            MaxNoise = 0.06,
        };
}
