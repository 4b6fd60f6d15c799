using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>Halves the resolution with a strided 3x3 convolution.</summary>
public sealed class Downsample : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv;

    public Downsample(int channels)
        : base(nameof(Downsample))
    {
        conv = nn.Conv2d(channels, channels, 3, stride: 2, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => conv.forward(x);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            conv.Dispose();
        base.Dispose(disposing);
    }
}
