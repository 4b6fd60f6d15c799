using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>
/// A 2-D convolution that keeps its parameters in 32-bit floats, so the optimiser's small updates are not rounded
/// away, and multiplies in bfloat16 on the CPU when asked: the pair verifier's training step took 53 ms instead of 66
/// (AVX-512 BF16, the audit-precision benchmark). Its output is then bfloat16; batch normalisation and ReLU take it as
/// it is. Its state has a plain convolution's names, <c>weight</c> and <c>bias</c>.
/// </summary>
public sealed class BFloat16Convolution : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long stride;
    private readonly long padding;
    private readonly bool reduced;

    /// <param name="reduced">Multiply in bfloat16 on the CPU; false gives a plain 32-bit convolution.</param>
    public BFloat16Convolution(long inChannels, long outChannels, long kernel, long stride, long padding, bool reduced)
        : base(nameof(BFloat16Convolution))
    {
        // A plain convolution's initialisation, then its parameters taken over.
        using (var scope = NewDisposeScope())
        {
            var plain = nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding);
            weight = new Parameter(plain.weight!.detach().clone().MoveToOuterDisposeScope());
            bias = new Parameter(plain.bias!.detach().clone().MoveToOuterDisposeScope());
            plain.Dispose();
        }
        this.stride = stride;
        this.padding = padding;
        this.reduced = reduced;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        // A GPU's 32-bit convolutions are quick already, and bfloat16 there is untested here.
        if (!reduced || input.device.type != DeviceType.CPU)
            return nn.functional.conv2d(input, weight, bias, strides: [stride, stride], padding: [padding, padding]);
        using var scope = NewDisposeScope();
        return nn
            .functional.conv2d(
                input.to(ScalarType.BFloat16),
                weight.to(ScalarType.BFloat16),
                bias.to(ScalarType.BFloat16),
                strides: [stride, stride],
                padding: [padding, padding]
            )
            .MoveToOuterDisposeScope();
    }
}
