using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>
/// GroupNorm-SiLU-Conv twice, with the conditioning vector (time + label) added between the convolutions
/// and a 1x1 skip when the channel count changes.
/// </summary>
public sealed class ResidualBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> norm1;
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly nn.Module<Tensor, Tensor> conditionProjection;
    private readonly nn.Module<Tensor, Tensor> norm2;
    private readonly nn.Module<Tensor, Tensor> dropout;
    private readonly nn.Module<Tensor, Tensor> conv2;
    private readonly nn.Module<Tensor, Tensor> skip;

    public ResidualBlock(int inChannels, int outChannels, int conditionDim, int groups, double dropoutRate)
        : base(nameof(ResidualBlock))
    {
        norm1 = Normalization.Group(groups, inChannels);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        conditionProjection = nn.Linear(conditionDim, outChannels);
        norm2 = Normalization.Group(groups, outChannels);
        dropout = nn.Dropout(dropoutRate);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1);
        skip = inChannels == outChannels ? nn.Identity() : nn.Conv2d(inChannels, outChannels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor condition)
    {
        using var scope = NewDisposeScope();
        var h = conv1.forward(nn.functional.silu(norm1.forward(x)));
        h = h.Plus(conditionProjection.forward(nn.functional.silu(condition)).unsqueeze(-1).unsqueeze(-1));
        h = conv2.forward(dropout.forward(nn.functional.silu(norm2.forward(h))));
        return h.Plus(skip.forward(x)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            norm1.Dispose();
            conv1.Dispose();
            conditionProjection.Dispose();
            norm2.Dispose();
            dropout.Dispose();
            conv2.Dispose();
            skip.Dispose();
        }
        base.Dispose(disposing);
    }
}
