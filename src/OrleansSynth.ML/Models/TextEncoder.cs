using OrleansSynth.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>
/// Reads prompts as token ids [B,L] (<see cref="TextEncoderConfig"/>): token and position embeddings, a few
/// <see cref="TransformerBlock"/>s and a final layer norm. Trained from scratch with the diffusion model: no
/// pretrained weights are used.
/// </summary>
public sealed class TextEncoder : nn.Module<Tensor, Tensor>
{
    // Added to the attention scores of padding: exp() of it is 0 in float32.
    private const double PaddingBias = -1e9;

    private readonly TextEncoderConfig _config;
    private readonly nn.Module<Tensor, Tensor> tokenEmbedding;
    private readonly Parameter positionEmbedding;
    private readonly ModuleList<TransformerBlock> layers = new();
    private readonly nn.Module<Tensor, Tensor> outputNorm;

    public TextEncoder(TextEncoderConfig config)
        : base(nameof(TextEncoder))
    {
        config.Validate();
        _config = config;
        tokenEmbedding = nn.Embedding(config.VocabularySize + 2, config.Dim);
        using (no_grad())
        using (var initial = randn(config.MaxTokens, config.Dim))
            positionEmbedding = new Parameter(initial.Times(0.02));
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
        var keyBias = zeros([b, 1, l], device: tokens.device).MaskedFill(valid.logical_not().unsqueeze(1), PaddingBias);
        var x = tokenEmbedding.forward(tokens).Plus(positionEmbedding.unsqueeze(0));
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

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            tokenEmbedding.Dispose();
            positionEmbedding.Dispose();
            layers.Dispose();
            outputNorm.Dispose();
        }
        base.Dispose(disposing);
    }
}
