using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Diffusion;

/// <summary>Ancestral sampling through every timestep of the forward process (Ho et al. 2020).</summary>
public sealed class DdpmSampler(GaussianDiffusion diffusion) : IDiffusionSampler
{
    public int StepCount => diffusion.Schedule.Timesteps;

    public Tensor Sample(UNet model, SamplingRequest request, Action<int, int>? progress = null)
    {
        using var noGrad = no_grad();
        var (x, conditions, generator) = SamplerSteps.Start(model, request);
        using var _ = generator;
        using var __ = conditions;
        var schedule = diffusion.Schedule;
        for (var t = schedule.Timesteps - 1; t >= 0; t--)
        {
            using var scope = NewDisposeScope();
            var (alphaBar, alphaBarPrev, beta) = (schedule.AlphaBars[t], schedule.AlphaBarBefore(t), schedule.Betas[t]);
            var (x0, _) = SamplerSteps.Denoise(diffusion, model, x, t, conditions, request.GuidanceScale);
            // Posterior q(x_{t-1} | x_t, x0).
            var meanX0 = beta * Math.Sqrt(alphaBarPrev) / (1 - alphaBar);
            var meanXt = (1 - alphaBarPrev) * Math.Sqrt(1 - beta) / (1 - alphaBar);
            var next = TensorArithmetic.LinearCombination(meanX0, x0, meanXt, x);
            if (t > 0)
            {
                var variance = beta * (1 - alphaBarPrev) / (1 - alphaBar);
                next = next.Plus(randn(x.shape, generator: generator).to(x.device).Times(Math.Sqrt(variance)));
            }
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            progress?.Invoke(schedule.Timesteps - t, schedule.Timesteps);
        }
        return x;
    }
}
