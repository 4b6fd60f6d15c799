using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>
/// Image features attend to a prompt's token vectors (single head, residual): each position of the feature map asks
/// which words concern it. Used at the UNet's lower resolutions, where a position sees enough of the image.
/// </summary>
public sealed class CrossAttentionBlock : nn.Module<Tensor, EncodedPrompt, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> norm;
    private readonly nn.Module<Tensor, Tensor> query;
    private readonly nn.Module<Tensor, Tensor> key;
    private readonly nn.Module<Tensor, Tensor> value;
    private readonly nn.Module<Tensor, Tensor> output;

    public CrossAttentionBlock(int channels, int textDim, int groups)
        : base(nameof(CrossAttentionBlock))
    {
        norm = Normalization.Group(groups, channels);
        query = nn.Conv2d(channels, channels, 1);
        key = nn.Linear(textDim, channels);
        value = nn.Linear(textDim, channels);
        output = nn.Conv2d(channels, channels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, EncodedPrompt prompt)
    {
        using var scope = NewDisposeScope();
        var (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var q = query.forward(norm.forward(x)).view(b, c, h * w).transpose(1, 2); // [B,HW,C]
        var k = key.forward(prompt.Tokens); // [B,L,C]
        var v = value.forward(prompt.Tokens);
        var scores = matmul(q, k.transpose(1, 2)).DividedBy(Math.Sqrt(c)).Plus(prompt.KeyBias); // [B,HW,L]
        var attended = matmul(softmax(scores, dim: -1), v).transpose(1, 2).reshape(b, c, h, w);
        return x.Plus(output.forward(attended)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            norm.Dispose();
            query.Dispose();
            key.Dispose();
            value.Dispose();
            output.Dispose();
        }
        base.Dispose(disposing);
    }
}
