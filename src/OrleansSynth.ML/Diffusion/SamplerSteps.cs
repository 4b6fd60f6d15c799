using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Diffusion;

/// <summary>Pieces shared by the samplers: starting noise, the guided x0 estimate.</summary>
internal static class SamplerSteps
{
    public static (Tensor Noise, Tensor Labels, Tensor? Extra, Generator Generator) Start(
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
        var device = model.parameters().First().device;
        // A CPU generator keeps results identical across devices for the same seed.
        var generator = new Generator((ulong)request.Seed, CPU);
        var noise = randn(
                [request.Labels.Length, config.ImageChannels, config.ImageSize, config.ImageSize],
                generator: generator
            )
            .to(device);
        var labels = tensor(request.Labels, dtype: int64, device: device);
        Tensor? extra = null;
        if (request.ExtraCondition is { } values)
        {
            if (values.Length != request.Labels.Length * config.ExtraConditionDim)
                throw new ArgumentException(
                    $"ExtraCondition has {values.Length} values; expected {request.Labels.Length} x "
                        + $"{config.ExtraConditionDim}."
                );
            extra = tensor(values, dtype: float32, device: device)
                .view(request.Labels.Length, config.ExtraConditionDim);
        }
        return (noise, labels, extra, generator);
    }

    /// <summary>Predicts x0 from x_t, clamps it to the data range and returns the noise consistent with the clamped
    /// x0.</summary>
    public static (Tensor CleanEstimate, Tensor Noise) Denoise(
        GaussianDiffusion diffusion,
        UNet model,
        Tensor x,
        int t,
        Tensor labels,
        Tensor? extra,
        double guidance
    )
    {
        var alphaBar = diffusion.Schedule.AlphaBars[t];
        using var timesteps = TensorArithmetic.Full([x.shape[0]], t, int64, x.device);
        using var eps = diffusion.GuidedNoise(model, x, timesteps, labels, guidance, extra);
        var x0 = (x - eps.Times(Math.Sqrt(1 - alphaBar))).DividedBy(Math.Sqrt(alphaBar)).ClampInPlace(-1, 1);
        var consistentEps = (x - x0.Times(Math.Sqrt(alphaBar))).DividedBy(Math.Sqrt(1 - alphaBar));
        return (x0, consistentEps);
    }
}
