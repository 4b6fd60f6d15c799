using OrleansSynth.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Training;

/// <summary>
/// TorchSharp's Adam (no weight decay, no AMSGrad), with the same update in the same order, whose scalars outlive the
/// native calls that read them. TorchSharp's own step turns each coefficient into a temporary <see cref="Scalar"/> per
/// call; nothing references it while libtorch runs, so a garbage collection triggered by another thread can finalize
/// (free) it mid-call, and libtorch fails with "Unknown scalar type" (seen in CI on a silo training two models at once;
/// TorchSharp pull requests 1434 and 1496 are open on it). Parameter groups, learning rates and the saved state are
/// TorchSharp Adam's own, and so is the class name, which the saved state begins with and loading checks: checkpoints
/// written by either load into the other.
/// </summary>
public sealed class Adam(IEnumerable<Parameter> parameters, double learningRate)
    : TorchSharp.Modules.Adam(parameters, lr: learningRate)
{
    public override Tensor step(Func<Tensor>? closure = null) =>
        _step<ParamGroup>(
            group =>
            {
                var options = (Options)group.Options;
                double beta1 = options.beta1!.Value,
                    beta2 = options.beta2!.Value,
                    learningRate = options.LearningRate!.Value;
                using Scalar decay1 = beta1,
                    share1 = 1 - beta1,
                    decay2 = beta2,
                    share2 = 1 - beta2,
                    eps = options.eps!.Value;
                foreach (var parameter in group.Parameters)
                {
                    var grad = parameter.grad;
                    if (grad is null)
                        continue;
                    var state = (State)_state[parameter.Handle];
                    state.step += 1;
                    using Scalar rootCorrection2 = Math.Sqrt(1 - Math.Pow(beta2, state.step)),
                        stepSize = -learningRate / (1 - Math.Pow(beta1, state.step));
                    state.exp_avg.mul_(decay1).add_(grad, alpha: share1);
                    state.exp_avg_sq.mul_(decay2).addcmul_(grad, grad.conj(), value: share2);
                    var denominator = state.exp_avg_sq.sqrt().div_(rootCorrection2).add_(eps, TensorArithmetic.One);
                    parameter.addcdiv_(state.exp_avg, denominator, value: stepSize);
                }
            },
            closure
        );
}
