using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>Doubles the resolution: nearest-neighbour upsampling followed by a 3x3 convolution.</summary>
public sealed class Upsample : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv;

    public Upsample(int channels)
        : base(nameof(Upsample))
    {
        conv = nn.Conv2d(channels, channels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var upsampled = nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        return conv.forward(upsampled);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            conv.Dispose();
        base.Dispose(disposing);
    }
}
