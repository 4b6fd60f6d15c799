using System.Text.Json.Serialization;

namespace OrleansSynth.ML.Models;

/// <summary>Shape of a class- (and optionally text-) conditional UNet. Defaults suit 28x28 grey images on a
/// CPU.</summary>
public sealed record UNetConfig
{
    public int ImageChannels { get; init; } = 1;
    public int ImageSize { get; init; } = 28;
    public int BaseChannels { get; init; } = 32;

    /// <summary>Channel multiplier per resolution; each level after the first halves the image.</summary>
    public int[] ChannelMultipliers { get; init; } = [1, 2, 2];
    public int ResBlocksPerLevel { get; init; } = 1;

    /// <summary>Real classes; index <c>NumClasses</c> is the null label used for classifier-free guidance.</summary>
    public int NumClasses { get; init; } = 10;
    public int GroupNormGroups { get; init; } = 8;
    public double Dropout { get; init; } = 0.0;

    /// <summary>Extra per-sample conditioning vector (e.g. a record embedding); 0 disables it.</summary>
    public int ExtraConditionDim { get; init; } = 0;

    /// <summary>The prompt reader of a text-conditioned model (cross-attention at the lower resolutions); null for
    /// a model conditioned on labels alone.</summary>
    public TextEncoderConfig? Text { get; init; }

    [JsonIgnore]
    public int NullLabel => NumClasses;

    [JsonIgnore]
    public int TimeEmbeddingDim => BaseChannels * 4;

    /// <summary>What the image side must be a multiple of: each level after the first halves it.</summary>
    [JsonIgnore]
    public int SizeDivisor => 1 << Math.Max(0, ChannelMultipliers.Length - 1);
    public const int MaxImageChannels = 4;

    public void Validate()
    {
        if (ImageChannels is < 1 or > MaxImageChannels)
            throw new ArgumentException($"ImageChannels must be 1..{MaxImageChannels}, was {ImageChannels}.");
        if (BaseChannels < GroupNormGroups || BaseChannels % GroupNormGroups != 0)
            throw new ArgumentException(
                $"BaseChannels ({BaseChannels}) must be a multiple of GroupNormGroups ({GroupNormGroups})."
            );
        if (ChannelMultipliers.Length == 0)
            throw new ArgumentException("ChannelMultipliers must not be empty.");
        if (ImageSize % SizeDivisor != 0)
            throw new ArgumentException(
                $"ImageSize {ImageSize} must be divisible by {SizeDivisor} for {ChannelMultipliers.Length} levels."
            );
        if (NumClasses < 1)
            throw new ArgumentException("NumClasses must be at least 1.");
        Text?.Validate();
    }
}
