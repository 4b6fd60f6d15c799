using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Diffusion;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022): a second-order multistep solver of the probability-flow ODE in its
/// data-prediction form, so the clamped x0 estimate keeps samples in range as in DDIM. Deterministic. It evaluates
/// the model at <c>steps</c> timesteps spread evenly over the schedule, the lowest above 0, and its last step lands
/// on the clean estimate (first order there, as the paper advises for few steps): the same network evaluations as
/// DDIM with as many steps, for a smaller error at 10 to 20 steps.
/// </summary>
public sealed class DpmSolverSampler : IDiffusionSampler
{
    private readonly GaussianDiffusion _diffusion;
    private readonly int[] _timesteps;

    public DpmSolverSampler(GaussianDiffusion diffusion, int steps)
    {
        var total = diffusion.Schedule.Timesteps;
        if (steps < 1 || steps > total - 1)
            throw new ArgumentOutOfRangeException(
                nameof(steps),
                $"DPM-Solver++ steps must be 1..{total - 1}, was {steps}."
            );
        _diffusion = diffusion;
        _timesteps = Enumerable
            .Range(1, steps)
            .Select(k => (int)Math.Round((double)k * (total - 1) / steps))
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
        Tensor? previousX0 = null;
        var previousH = 0.0;
        try
        {
            for (var i = _timesteps.Length - 1; i >= 0; i--)
            {
                using var scope = NewDisposeScope();
                var alphaBar = alphaBars[_timesteps[i]];
                var x0 = SamplerSteps
                    .Denoise(_diffusion, model, x, _timesteps[i], conditions, request.GuidanceScale)
                    .CleanEstimate;
                Tensor next;
                var h = 0.0;
                if (i == 0)
                    next = x0.clone();
                else
                {
                    var alphaBarNext = alphaBars[_timesteps[i - 1]];
                    h = HalfLogSnr(alphaBarNext) - HalfLogSnr(alphaBar);
                    // Second order from the previous step's estimate: the 2M update's extrapolation of x0 in lambda.
                    var estimate = previousX0 is null
                        ? x0
                        : TensorArithmetic.LinearCombination(
                            1 + h / (2 * previousH),
                            x0,
                            -(h / (2 * previousH)),
                            previousX0
                        );
                    next = TensorArithmetic.LinearCombination(
                        Math.Sqrt((1 - alphaBarNext) / (1 - alphaBar)),
                        x,
                        -(Math.Sqrt(alphaBarNext) * double.ExpM1(-h)),
                        estimate
                    );
                }
                previousX0?.Dispose();
                previousX0 = x0.MoveToOuterDisposeScope();
                previousH = h;
                x.Dispose();
                x = next.MoveToOuterDisposeScope();
                progress?.Invoke(_timesteps.Length - i, _timesteps.Length);
            }
        }
        finally
        {
            previousX0?.Dispose();
        }
        return x;
    }

    /// <summary>lambda = log(alpha / sigma), the solver's time variable.</summary>
    private static double HalfLogSnr(double alphaBar) => 0.5 * Math.Log(alphaBar / (1 - alphaBar));
}
