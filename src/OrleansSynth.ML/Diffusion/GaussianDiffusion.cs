using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
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
            return (signal * cleanImages).Plus(noiseScale * noise);
    }

    /// <summary>
    /// Mean squared error between the true and predicted noise at uniformly drawn timesteps.
    /// Labels are replaced by the null label with probability <paramref name="labelDropout"/> so the
    /// same network learns the unconditional branch used for guidance; record features and prompts are dropped with
    /// them (to zeros and the null prompt).
    /// </summary>
    /// <param name="generator">CPU generator for every random draw, so a step is reproducible from its seed.</param>
    /// <param name="minSnrGamma">
    /// When positive, each sample's error is weighted by min(SNR, gamma) / SNR (Hang et al. 2023, "Min-SNR weighting"):
    /// nearly clean timesteps, whose noise is easy to guess and whose gradients conflict with the rest, count less.
    /// </param>
    public Tensor TrainingLoss(
        UNet model,
        Tensor cleanImages,
        Tensor labels,
        double labelDropout,
        Generator generator,
        Tensor? extraCondition = null,
        double minSnrGamma = 0,
        Tensor? prompts = null
    )
    {
        using var scope = NewDisposeScope();
        var batch = cleanImages.shape[0];
        var device = cleanImages.device;
        var timesteps = randint(0, Schedule.Timesteps, [batch], dtype: int64, generator: generator).to(device);
        var noise = randn(cleanImages.shape, generator: generator).to(device);
        var noisy = AddNoise(cleanImages, timesteps, noise);
        if (labelDropout > 0)
        {
            using Scalar dropoutRate = labelDropout;
            var drop = rand([batch], generator: generator).to(device).lt(dropoutRate);
            labels = where(drop, TensorArithmetic.FullLike(labels, model.Config.NullLabel), labels);
            if (extraCondition is not null)
                extraCondition = where(drop.unsqueeze(1), zeros_like(extraCondition), extraCondition);
            if (prompts is not null)
                prompts = where(drop.unsqueeze(1), model.NullPrompts(batch, device), prompts);
        }
        var predicted = model.Predict(noisy, timesteps, labels, extraCondition, prompts);
        if (minSnrGamma <= 0)
            return nn.functional.mse_loss(predicted, noise).MoveToOuterDisposeScope();
        var weights = tensor(MinSnrWeightsCached(minSnrGamma), device: device).index_select(0, timesteps);
        return (weights * (predicted - noise).Squared().mean([1, 2, 3])).mean().MoveToOuterDisposeScope();
    }

    /// <summary>min(SNR_t, gamma) / SNR_t for every timestep, with SNR_t = abar_t / (1 - abar_t).</summary>
    public float[] MinSnrWeights(double gamma) =>
        Schedule
            .AlphaBars.Select(abar => abar / (1 - abar))
            .Select(snr => snr <= gamma ? 1f : (float)(gamma / snr))
            .ToArray();

    // A run trains with one gamma: the table is computed once, not at every step (a reference swap, so thread-safe).
    private sealed record MinSnrTable(double Gamma, float[] Weights);

    private MinSnrTable? _minSnr;

    private float[] MinSnrWeightsCached(double gamma)
    {
        var table = _minSnr;
        if (table is null || table.Gamma != gamma)
            _minSnr = table = new MinSnrTable(gamma, MinSnrWeights(gamma));
        return table.Weights;
    }

    /// <summary>
    /// Network rows per evaluation on a CPU. Larger batches leave the caches and, above glibc's largest mmap threshold
    /// (32 MiB of activations), fault in fresh pages at every step: on 2 cores 512 rows ran 30% slower per image than
    /// 128.
    /// </summary>
    public const int CpuRowsPerEvaluation = 128;

    /// <summary>
    /// eps = eps_null + w (eps_label - eps_null); w = 1 is plain conditional, w = 0 unconditional. On a CPU the batch
    /// is evaluated in slices of <see cref="CpuRowsPerEvaluation"/> network rows (the same numbers, only faster).
    /// </summary>
    public Tensor GuidedNoise(
        UNet model,
        Tensor noisyImages,
        Tensor timesteps,
        Tensor labels,
        double guidanceScale,
        Tensor? extraCondition = null,
        Tensor? prompts = null
    )
    {
        var count = noisyImages.shape[0];
        var slice = guidanceScale is 0.0 or 1.0 ? CpuRowsPerEvaluation : CpuRowsPerEvaluation / 2;
        if (noisyImages.device.type != DeviceType.CPU || count <= slice)
            return GuidedNoiseOfBatch(model, noisyImages, timesteps, labels, guidanceScale, extraCondition, prompts);
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (long start = 0; start < count; start += slice)
        {
            var length = Math.Min(slice, count - start);
            parts.Add(
                GuidedNoiseOfBatch(
                    model,
                    noisyImages.narrow(0, start, length),
                    timesteps.narrow(0, start, length),
                    labels.narrow(0, start, length),
                    guidanceScale,
                    extraCondition?.narrow(0, start, length),
                    prompts?.narrow(0, start, length)
                )
            );
        }
        return cat(parts).MoveToOuterDisposeScope();
    }

    private Tensor GuidedNoiseOfBatch(
        UNet model,
        Tensor noisyImages,
        Tensor timesteps,
        Tensor labels,
        double guidanceScale,
        Tensor? extraCondition,
        Tensor? prompts
    )
    {
        using var scope = NewDisposeScope();
        if (guidanceScale == 1.0)
            return model.Predict(noisyImages, timesteps, labels, extraCondition, prompts).MoveToOuterDisposeScope();
        // The null branch: null label, zero features, the null prompt (a text model reads it when given none).
        var nullLabels = TensorArithmetic.FullLike(labels, model.Config.NullLabel);
        var nullExtra = extraCondition is null ? null : zeros_like(extraCondition);
        var nullPrompts = prompts is null ? null : model.NullPrompts(prompts.shape[0], prompts.device);
        if (guidanceScale == 0.0)
            return model.Predict(noisyImages, timesteps, nullLabels, nullExtra, nullPrompts).MoveToOuterDisposeScope();
        // One batched forward pass for both branches.
        var both = model.Predict(
            cat([noisyImages, noisyImages]),
            cat([timesteps, timesteps]),
            cat([labels, nullLabels]),
            extraCondition is null ? null : cat([extraCondition, nullExtra!]),
            prompts is null ? null : cat([prompts, nullPrompts!])
        );
        var parts = both.chunk(2);
        return parts[1].Plus((parts[0] - parts[1]).Times(guidanceScale)).MoveToOuterDisposeScope();
    }
}
