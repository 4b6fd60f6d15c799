using OrleansSynth.ML.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Diffusion;

/// <summary>
/// The DDPM forward process and the epsilon-prediction objective around a <see cref="UNet"/>,
/// plus classifier-free-guided noise prediction used by the samplers.
/// </summary>
public sealed class GaussianDiffusion
{
    public GaussianDiffusion(DiffusionConfig config)
    {
        Config = config;
        Schedule = new NoiseSchedule(config.Schedule, config.Timesteps);
    }

    public DiffusionConfig Config { get; }
    public NoiseSchedule Schedule { get; }

    /// <summary>x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise.</summary>
    public Tensor AddNoise(Tensor cleanImages, Tensor timesteps, Tensor noise)
    {
        var (signal, noiseScale) = Schedule.ScalesFor(timesteps);
        using (signal)
        using (noiseScale)
            return signal * cleanImages + noiseScale * noise;
    }

    /// <summary>
    /// Mean squared error between the true and predicted noise at uniformly drawn timesteps.
    /// Labels are replaced by the null label with probability <paramref name="labelDropout"/> so the
    /// same network learns the unconditional branch used for guidance.
    /// </summary>
    /// <param name="generator">CPU generator for every random draw, so a step is reproducible from its seed.</param>
    public Tensor TrainingLoss(UNet model, Tensor cleanImages, Tensor labels, double labelDropout, Generator generator, Tensor? extraCondition = null)
    {
        using var scope = NewDisposeScope();
        var batch = cleanImages.shape[0];
        var device = cleanImages.device;
        var timesteps = randint(0, Schedule.Timesteps, [batch], dtype: int64, generator: generator).to(device);
        var noise = randn(cleanImages.shape, generator: generator).to(device);
        var noisy = AddNoise(cleanImages, timesteps, noise);
        if (labelDropout > 0)
        {
            var drop = rand([batch], generator: generator).to(device) < labelDropout;
            labels = where(drop, full_like(labels, model.Config.NullLabel), labels);
            if (extraCondition is not null) extraCondition = where(drop.unsqueeze(1), zeros_like(extraCondition), extraCondition);
        }
        var predicted = model.Predict(noisy, timesteps, labels, extraCondition);
        return nn.functional.mse_loss(predicted, noise).MoveToOuterDisposeScope();
    }

    /// <summary>eps = eps_null + w (eps_label - eps_null); w = 1 is plain conditional, w = 0 unconditional.</summary>
    public Tensor GuidedNoise(UNet model, Tensor noisyImages, Tensor timesteps, Tensor labels, double guidanceScale, Tensor? extraCondition = null)
    {
        using var scope = NewDisposeScope();
        if (guidanceScale == 1.0)
            return model.Predict(noisyImages, timesteps, labels, extraCondition).MoveToOuterDisposeScope();
        var nullLabels = full_like(labels, model.Config.NullLabel);
        var nullExtra = extraCondition is null ? null : zeros_like(extraCondition);
        if (guidanceScale == 0.0)
            return model.Predict(noisyImages, timesteps, nullLabels, nullExtra).MoveToOuterDisposeScope();
        // One batched forward pass for both branches.
        var both = model.Predict(
            cat([noisyImages, noisyImages]), cat([timesteps, timesteps]), cat([labels, nullLabels]),
            extraCondition is null ? null : cat([extraCondition, nullExtra!]));
        var parts = both.chunk(2);
        return (parts[1] + guidanceScale * (parts[0] - parts[1])).MoveToOuterDisposeScope();
    }
}
