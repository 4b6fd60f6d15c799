using OrleansSynth.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>
/// TorchSharp's BatchNorm2d (the same parameters, buffers, state names and <c>batch_norm</c> call) counting its batches
/// with a held scalar: TorchSharp's forward calls <c>num_batches_tracked.add_(1)</c>, a temporary Scalar per layer and
/// step that a finalizer can free mid-call (see <see cref="TensorArithmetic"/>).
/// </summary>
public sealed class BatchNormalization(long features)
    : BatchNorm(
        features,
        eps: 1e-5,
        momentum: 0.1,
        affine: true,
        track_running_stats: true,
        device: null,
        dtype: null,
        nameof(BatchNormalization)
    )
{
    private static readonly Scalar OneBatch = 1L;

    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        if (training)
            num_batches_tracked!.add_(OneBatch, TensorArithmetic.One);
        return nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, momentum!.Value, eps);
    }

    protected override void ValidateInputDimensions(Tensor input)
    {
        if (input.ndim != 4)
            throw new ArgumentException($"Expected a 4-D [N,C,H,W] input, got {input.ndim}-D.");
    }
}
