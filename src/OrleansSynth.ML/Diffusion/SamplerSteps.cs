using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Diffusion;

/// <summary>What every denoising step of one request is conditioned on.</summary>
internal sealed record SampleConditions(Tensor Labels, Tensor? Extra, Tensor? Prompts) : IDisposable
{
    public void Dispose()
    {
        Labels.Dispose();
        Extra?.Dispose();
        Prompts?.Dispose();
    }
}

/// <summary>Pieces shared by the samplers: starting noise, the guided x0 estimate.</summary>
internal static class SamplerSteps
{
    public static (Tensor Noise, SampleConditions Conditions, Generator Generator) Start(
        UNet model,
        SamplingRequest request
    )
    {
        if (request.Labels.Length == 0)
            throw new ArgumentException("Nothing to sample: no labels were given.");
        var config = model.Config;
        foreach (var label in request.Labels)
            if (label < 0 || label > config.NullLabel)
                throw new ArgumentOutOfRangeException(
                    nameof(request),
                    $"Label {label} is outside 0..{config.NullLabel} (the last is the null label)."
                );
        var count = request.Labels.Length;
        var device = model.parameters().First().device;
        // A CPU generator keeps results identical across devices for the same seed.
        var generator = new Generator((ulong)request.Seed, CPU);
        var noise = randn([count, config.ImageChannels, config.ImageSize, config.ImageSize], generator: generator)
            .to(device);
        var labels = tensor(request.Labels, dtype: int64, device: device);
        Tensor? extra = null;
        if (request.ExtraCondition is { } values)
        {
            if (values.Length != count * config.ExtraConditionDim)
                throw new ArgumentException(
                    $"ExtraCondition has {values.Length} values; expected {count} x {config.ExtraConditionDim}."
                );
            extra = tensor(values, dtype: float32, device: device).view(count, config.ExtraConditionDim);
        }
        Tensor? prompts = null;
        if (request.PromptTokens is { } tokens)
        {
            var text = config.Text ?? throw new ArgumentException("The model reads no text, but prompts were given.");
            if (tokens.Length != count * text.MaxTokens)
                throw new ArgumentException(
                    $"PromptTokens has {tokens.Length} ids; expected {count} x {text.MaxTokens}."
                );
            if (tokens.Any(t => t < 0 || t >= text.EmbeddingRows))
                throw new ArgumentException($"A prompt token is outside 0..{text.EmbeddingRows - 1}.");
            prompts = tensor(tokens, dtype: int64, device: device).view(count, text.MaxTokens);
        }
        return (noise, new SampleConditions(labels, extra, prompts), generator);
    }

    /// <summary>Predicts x0 from x_t, clamps it to the data range and returns the noise consistent with the clamped
    /// x0.</summary>
    public static (Tensor CleanEstimate, Tensor Noise) Denoise(
        GaussianDiffusion diffusion,
        UNet model,
        Tensor x,
        int t,
        SampleConditions conditions,
        double guidance
    )
    {
        var alphaBar = diffusion.Schedule.AlphaBars[t];
        using var timesteps = TensorArithmetic.Full([x.shape[0]], t, int64, x.device);
        using var eps = diffusion.GuidedNoise(
            model,
            x,
            timesteps,
            conditions.Labels,
            guidance,
            conditions.Extra,
            conditions.Prompts
        );
        var x0 = (x - eps.Times(Math.Sqrt(1 - alphaBar))).DividedBy(Math.Sqrt(alphaBar)).ClampInPlace(-1, 1);
        var consistentEps = (x - x0.Times(Math.Sqrt(alphaBar))).DividedBy(Math.Sqrt(1 - alphaBar));
        return (x0, consistentEps);
    }
}
