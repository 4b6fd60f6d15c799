using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Training;

/// <summary>Keeps <c>target = decay * target + (1 - decay) * source</c> for every parameter and buffer.</summary>
public static class ExponentialMovingAverage
{
    public static void CopyWeights(nn.Module source, nn.Module target) => Update(source, target, decay: 0.0);

    public static void Update(nn.Module source, nn.Module target, double decay)
    {
        using var noGrad = no_grad();
        // Held for the whole loop: a temporary Scalar can be freed by its finalizer during the native call (see Adam).
        using Scalar kept = decay,
            share = 1 - decay;
        var sourceState = source.state_dict();
        foreach (var (name, targetTensor) in target.state_dict())
        {
            var sourceTensor = sourceState[name];
            if (decay == 0.0 || !targetTensor.is_floating_point())
                targetTensor.copy_(sourceTensor);
            else
                targetTensor.mul_(kept).add_(sourceTensor, alpha: share);
        }
    }
}
