using OrleansSynth.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>
/// Reads prompts as token ids [B,L] (<see cref="TextEncoderConfig"/>): a token embedding plus fixed sine and cosine
/// positions, a few <see cref="TransformerBlock"/>s and a final layer norm. Trained from scratch with the diffusion
/// model: no pretrained weights are used. Positions are not learned: a learned row past the longest training prompt
/// would keep its initial value and tell that prompt's length.
/// </summary>
public sealed class TextEncoder : nn.Module<Tensor, Tensor>
{
    // Added to the attention scores of padding: exp() of it is 0 in float32 and bfloat16.
    private const double PaddingBias = -1e9;

    private readonly TextEncoderConfig _config;
    private readonly nn.Module<Tensor, Tensor> tokenEmbedding;
    private readonly float[] _positions;
    private readonly ModuleList<TransformerBlock> layers = new();
    private readonly nn.Module<Tensor, Tensor> outputNorm;

    public TextEncoder(TextEncoderConfig config)
        : base(nameof(TextEncoder))
    {
        config.Validate();
        _config = config;
        tokenEmbedding = nn.Embedding(config.EmbeddingRows, config.Dim);
        _positions = Positions(config.MaxTokens, config.Dim);
        for (var i = 0; i < config.Layers; i++)
            layers.Add(new TransformerBlock(config.Dim, config.Heads));
        outputNorm = nn.LayerNorm(config.Dim);
        RegisterComponents();
    }

    /// <summary>Token vectors [B,L,D] of prompts [B,L].</summary>
    public override Tensor forward(Tensor tokens) => Encode(tokens).Tokens;

    /// <summary>Token vectors, the padding bias and each prompt's mean vector.</summary>
    public EncodedPrompt Encode(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var (b, l) = (tokens.shape[0], tokens.shape[1]);
        if (l != _config.MaxTokens)
            throw new ArgumentException($"Prompts are {l} tokens long; the text encoder reads {_config.MaxTokens}.");
        var valid = tokens.ne(TensorArithmetic.FullLike(tokens, _config.PadToken));
        var embedded = tokenEmbedding.forward(tokens);
        // In the embedding's type: a model converted for sampling computes in bfloat16 throughout.
        var keyBias = zeros([b, 1, l], embedded.dtype, tokens.device)
            .MaskedFill(valid.logical_not().unsqueeze(1), PaddingBias);
        var positions = tensor(_positions, [1, l, _config.Dim], device: tokens.device).to(embedded.dtype);
        var x = embedded.Plus(positions);
        var layerBias = keyBias.unsqueeze(1); // [B,1,1,L], one row for every head and query
        foreach (var layer in layers)
            x = layer.forward(x, layerBias);
        x = outputNorm.forward(x);
        var weights = valid.to_type(x.dtype).unsqueeze(-1);
        var pooled = (x * weights).sum(1) / weights.sum(1).ClampMin(1);
        return new EncodedPrompt(
            x.MoveToOuterDisposeScope(),
            keyBias.MoveToOuterDisposeScope(),
            pooled.MoveToOuterDisposeScope()
        );
    }

    /// <summary>Row p: sin(p w_i) in the even columns and cos(p w_i) in the odd ones, w_i = 10000^(-2i/D) (Vaswani et
    /// al. 2017), computed in double and rounded once to float, as the release's sample.py computes them.</summary>
    public static float[] Positions(int rows, int dim)
    {
        var table = new float[rows * dim];
        for (var p = 0; p < rows; p++)
        for (var i = 0; i < dim / 2; i++)
        {
            var angle = p * Math.Pow(10000, -2.0 * i / dim);
            table[p * dim + 2 * i] = (float)Math.Sin(angle);
            table[p * dim + 2 * i + 1] = (float)Math.Cos(angle);
        }
        return table;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            tokenEmbedding.Dispose();
            layers.Dispose();
            outputNorm.Dispose();
        }
        base.Dispose(disposing);
    }
}
