using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>
/// A convolution whose output channels fill oneDNN's channel blocks. On a CPU libtorch 2.10 hands convolutions to
/// oneDNN, which blocks channels in 16s on AVX-512 (8s on AVX2) and pads a partial block; in the backward pass the
/// padding of the incoming gradient can hold whatever the allocator left there, and a NaN in it times a zero weight
/// poisons the whole input gradient. Measured on an AMD EPYC with AVX-512: a 32-to-1-channel 3x3 convolution gave a
/// NaN input gradient in 2 of 25 UNet training steps, and one such step leaves a diffusion model NaN for good. Zero
/// rows pad the weight to whole blocks, so every channel the kernel reads is real; the extra outputs are dropped.
/// </summary>
public static class WholeBlockConvolution
{
    /// <summary>The widest channel block oneDNN uses for 32-bit floats (AVX-512); it is a multiple of every narrower
    /// one.</summary>
    public const int ChannelBlock = 16;

    /// <summary><paramref name="conv"/> applied to <paramref name="input"/> (stride 1, the given padding); the same
    /// numbers as <c>conv.forward</c>.</summary>
    public static Tensor Forward(Conv2d conv, Tensor input, long padding)
    {
        var weight = conv.weight ?? throw new InvalidOperationException("The convolution has no weight.");
        var outChannels = weight.shape[0];
        var missing = (ChannelBlock - outChannels % ChannelBlock) % ChannelBlock;
        // Without gradients there is no backward pass to read the padding; on a GPU there is no oneDNN.
        if (missing == 0 || input.device.type != DeviceType.CPU || !is_grad_enabled())
            return conv.forward(input);
        using var scope = NewDisposeScope();
        var paddedWeight = cat([weight, zeros([missing, .. weight.shape[1..]], weight.dtype, weight.device)]);
        var paddedBias = conv.bias is { } bias ? cat([bias, zeros(missing, bias.dtype, bias.device)]) : null;
        return nn
            .functional.conv2d(input, paddedWeight, paddedBias, padding: [padding, padding])
            .narrow(1, 0, outChannels)
            .MoveToOuterDisposeScope();
    }
}
