using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>Single-head spatial self-attention with a residual connection; used at the lowest resolution
/// only.</summary>
public sealed class SelfAttentionBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> norm;
    private readonly nn.Module<Tensor, Tensor> qkv;
    private readonly nn.Module<Tensor, Tensor> output;

    public SelfAttentionBlock(int channels, int groups)
        : base(nameof(SelfAttentionBlock))
    {
        norm = Normalization.Group(groups, channels);
        qkv = nn.Conv2d(channels, channels * 3, 1);
        output = nn.Conv2d(channels, channels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var parts = qkv.forward(norm.forward(x)).reshape(b, 3, c, h * w).unbind(1);
        // [B, HW, C] x [B, C, HW] -> [B, HW, HW]
        var weights = softmax(matmul(parts[0].transpose(1, 2), parts[1]).DividedBy(Math.Sqrt(c)), dim: -1);
        var attended = matmul(parts[2], weights.transpose(1, 2)).reshape(b, c, h, w);
        return x.Plus(output.forward(attended)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            norm.Dispose();
            qkv.Dispose();
            output.Dispose();
        }
        base.Dispose(disposing);
    }
}
