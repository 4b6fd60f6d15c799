using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Diffusion;

/// <summary>
/// DDIM (Song et al. 2021) over an evenly spaced subsequence of timesteps; eta = 0 is deterministic,
/// eta = 1 adds as much noise as ancestral sampling.
/// </summary>
public sealed class DdimSampler : IDiffusionSampler
{
    private readonly GaussianDiffusion _diffusion;
    private readonly int[] _timesteps;
    private readonly double _eta;

    public DdimSampler(GaussianDiffusion diffusion, int steps, double eta = 0.0)
    {
        var total = diffusion.Schedule.Timesteps;
        if (steps < 1 || steps > total)
            throw new ArgumentOutOfRangeException(nameof(steps), $"DDIM steps must be 1..{total}, was {steps}.");
        if (eta < 0)
            throw new ArgumentOutOfRangeException(nameof(eta), "eta must be non-negative.");
        _diffusion = diffusion;
        _eta = eta;
        _timesteps = Enumerable
            .Range(0, steps)
            .Select(i => (int)Math.Round((double)i * (total - 1) / Math.Max(steps - 1, 1)))
            .Distinct()
            .ToArray();
    }

    public int StepCount => _timesteps.Length;

    public Tensor Sample(UNet model, SamplingRequest request, Action<int, int>? progress = null)
    {
        using var noGrad = no_grad();
        var (x, conditions, generator) = SamplerSteps.Start(model, request);
        using var _ = generator;
        using var __ = conditions;
        var alphaBars = _diffusion.Schedule.AlphaBars;
        for (var i = _timesteps.Length - 1; i >= 0; i--)
        {
            using var scope = NewDisposeScope();
            var t = _timesteps[i];
            var alphaBar = alphaBars[t];
            var alphaBarPrev = i > 0 ? alphaBars[_timesteps[i - 1]] : 1.0;
            var (x0, eps) = SamplerSteps.Denoise(_diffusion, model, x, t, conditions, request.GuidanceScale);
            var sigma = _eta * Math.Sqrt((1 - alphaBarPrev) / (1 - alphaBar) * (1 - alphaBar / alphaBarPrev));
            var next = TensorArithmetic.LinearCombination(
                Math.Sqrt(alphaBarPrev),
                x0,
                Math.Sqrt(Math.Max(1 - alphaBarPrev - sigma * sigma, 0)),
                eps
            );
            if (sigma > 0 && i > 0)
                next = next.Plus(randn(x.shape, generator: generator).to(x.device).Times(sigma));
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            progress?.Invoke(_timesteps.Length - i, _timesteps.Length);
        }
        return x;
    }
}
