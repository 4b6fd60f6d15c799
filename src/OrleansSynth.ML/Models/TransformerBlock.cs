using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>
/// A pre-norm transformer layer over token vectors [B,L,D]: multi-head self-attention that ignores padding (an
/// additive key bias [B,1,1,L] of 0 or a large negative number), then a GELU MLP, each with a residual connection.
/// </summary>
public sealed class TransformerBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly int _heads;
    private readonly nn.Module<Tensor, Tensor> attentionNorm;
    private readonly nn.Module<Tensor, Tensor> qkv;
    private readonly nn.Module<Tensor, Tensor> attentionOutput;
    private readonly nn.Module<Tensor, Tensor> mlpNorm;
    private readonly nn.Module<Tensor, Tensor> mlpIn;
    private readonly nn.Module<Tensor, Tensor> mlpOut;

    public TransformerBlock(int dim, int heads)
        : base(nameof(TransformerBlock))
    {
        _heads = heads;
        attentionNorm = nn.LayerNorm(dim);
        qkv = nn.Linear(dim, dim * 3);
        attentionOutput = nn.Linear(dim, dim);
        mlpNorm = nn.LayerNorm(dim);
        mlpIn = nn.Linear(dim, dim * 4);
        mlpOut = nn.Linear(dim * 4, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor keyBias)
    {
        using var scope = NewDisposeScope();
        var (b, l, d) = (x.shape[0], x.shape[1], x.shape[2]);
        var headDim = d / _heads;
        // [B,L,3,H,dh] -> [3,B,H,L,dh]
        var parts = qkv.forward(attentionNorm.forward(x)).view(b, l, 3, _heads, headDim).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (parts[0], parts[1], parts[2]);
        var scores = matmul(q, k.transpose(-2, -1)).DividedBy(Math.Sqrt(headDim)).Plus(keyBias);
        var attended = matmul(softmax(scores, dim: -1), v).transpose(1, 2).reshape(b, l, d);
        x = x.Plus(attentionOutput.forward(attended));
        x = x.Plus(mlpOut.forward(nn.functional.gelu(mlpIn.forward(mlpNorm.forward(x)))));
        return x.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            attentionNorm.Dispose();
            qkv.Dispose();
            attentionOutput.Dispose();
            mlpNorm.Dispose();
            mlpIn.Dispose();
            mlpOut.Dispose();
        }
        base.Dispose(disposing);
    }
}
