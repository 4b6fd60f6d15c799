using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;

namespace OrleansSynth.ML.Release;

/// <summary>
/// A released model's config.json: what rebuilds the network and samples from it in any framework. Written in
/// snake_case, as Python readers expect.
/// </summary>
public sealed record ReleasedModelConfig
{
    public const string FormatName = "orleanssynth-unet-diffusion";

    public string Format { get; init; } = FormatName;
    public int FormatVersion { get; init; } = 1;
    public required UNetConfig Model { get; init; }
    public required DiffusionConfig Diffusion { get; init; }
    public required ReleasedSamplerDefaults Sampler { get; init; }
    public string Weights { get; init; } = ReleasedModel.WeightsFile;
    public PixelRule Pixels { get; init; } = new();

    /// <summary>Class names by label, where the spec gives them; otherwise the labels themselves.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];
}

/// <summary>The sampler the release was audited with: its defaults are what the report's numbers describe.</summary>
public sealed record ReleasedSamplerDefaults(string Name, int Steps, double Eta, double GuidanceScale);

/// <summary>How the network's output maps to pixels.</summary>
public sealed record PixelRule
{
    public double[] ModelRange { get; init; } = [-1, 1];
    public string ToUint8 { get; init; } = "round((x + 1) * 127.5), clamped to 0..255";
}
