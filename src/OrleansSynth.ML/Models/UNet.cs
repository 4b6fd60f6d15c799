using OrleansSynth.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>
/// Class-conditional denoising UNet: predicts the noise in x_t given the timestep and a label
/// (label <see cref="UNetConfig.NullLabel"/> means "unconditional", for classifier-free guidance). With
/// <see cref="UNetConfig.Text"/> it also reads a prompt: its mean vector joins the condition and every block below
/// full resolution attends to its tokens.
/// </summary>
public sealed class UNet : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly UNetConfig _config;
    private readonly SinusoidalTimeEmbedding timeEmbedding;
    private readonly nn.Module<Tensor, Tensor> labelEmbedding;
    private readonly nn.Module<Tensor, Tensor>? extraConditionProjection;
    private readonly TextEncoder? textEncoder;
    private readonly nn.Module<Tensor, Tensor>? promptProjection;
    private readonly ModuleList<CrossAttentionBlock> downCrossAttention = new();
    private readonly CrossAttentionBlock? middleCrossAttention;
    private readonly ModuleList<CrossAttentionBlock> upCrossAttention = new();
    private readonly Conv2d inputConv;
    private readonly ModuleList<ResidualBlock> downBlocks = new();
    private readonly ModuleList<nn.Module<Tensor, Tensor>> downsamplers = new();
    private readonly ResidualBlock middleBlock1;
    private readonly SelfAttentionBlock middleAttention;
    private readonly ResidualBlock middleBlock2;
    private readonly ModuleList<ResidualBlock> upBlocks = new();
    private readonly ModuleList<nn.Module<Tensor, Tensor>> upsamplers = new();
    private readonly nn.Module<Tensor, Tensor> outputNorm;
    private readonly Conv2d outputConv;

    public UNet(UNetConfig config)
        : base(nameof(UNet))
    {
        config.Validate();
        _config = config;
        var cond = config.TimeEmbeddingDim;
        var groups = config.GroupNormGroups;
        var levels = config.ChannelMultipliers.Select(m => config.BaseChannels * m).ToArray();

        timeEmbedding = new SinusoidalTimeEmbedding(config.BaseChannels, cond);
        labelEmbedding = nn.Embedding(config.NumClasses + 1, cond);
        if (config.ExtraConditionDim > 0)
            extraConditionProjection = nn.Linear(config.ExtraConditionDim, cond);
        var text = config.Text;
        if (text is not null)
        {
            textEncoder = new TextEncoder(text);
            promptProjection = nn.Linear(text.Dim, cond);
        }
        inputConv = nn.Conv2d(config.ImageChannels, config.BaseChannels, 3, padding: 1);

        var channels = config.BaseChannels;
        for (var level = 0; level < levels.Length; level++)
        {
            for (var i = 0; i < config.ResBlocksPerLevel; i++)
            {
                downBlocks.Add(new ResidualBlock(channels, levels[level], cond, groups, config.Dropout));
                channels = levels[level];
                if (text is not null && level > 0)
                    downCrossAttention.Add(new CrossAttentionBlock(channels, text.Dim, groups));
            }
            downsamplers.Add(level < levels.Length - 1 ? new Downsample(channels) : nn.Identity());
        }

        middleBlock1 = new ResidualBlock(channels, channels, cond, groups, config.Dropout);
        middleAttention = new SelfAttentionBlock(channels, groups);
        if (text is not null)
            middleCrossAttention = new CrossAttentionBlock(channels, text.Dim, groups);
        middleBlock2 = new ResidualBlock(channels, channels, cond, groups, config.Dropout);

        for (var level = levels.Length - 1; level >= 0; level--)
        {
            for (var i = 0; i < config.ResBlocksPerLevel; i++)
            {
                // The first block of a level consumes the skip connection saved on the way down.
                var inChannels = i == 0 ? channels + levels[level] : channels;
                upBlocks.Add(new ResidualBlock(inChannels, levels[level], cond, groups, config.Dropout));
                channels = levels[level];
                if (text is not null && level > 0)
                    upCrossAttention.Add(new CrossAttentionBlock(channels, text.Dim, groups));
            }
            upsamplers.Add(level > 0 ? new Upsample(channels) : nn.Identity());
        }

        outputNorm = Normalization.Group(groups, channels);
        outputConv = nn.Conv2d(channels, config.ImageChannels, 3, padding: 1);
        RegisterComponents();
    }

    public UNetConfig Config => _config;

    public override Tensor forward(Tensor noisyImages, Tensor timesteps, Tensor labels) =>
        Predict(noisyImages, timesteps, labels, null);

    /// <summary>Noise prediction with an optional per-sample extra condition of size <see
    /// cref="UNetConfig.ExtraConditionDim"/> and, for a text model, optional prompts [B, MaxTokens] (none: the null
    /// prompt).</summary>
    public Tensor Predict(
        Tensor noisyImages,
        Tensor timesteps,
        Tensor labels,
        Tensor? extraCondition,
        Tensor? prompts = null
    )
    {
        using var scope = NewDisposeScope();
        // A model converted for sampling (SamplingArithmetic) computes in its parameters' type; the caller gets its
        // own type back.
        var outputType = noisyImages.dtype;
        var computeType = inputConv.weight!.dtype;
        noisyImages = noisyImages.to(computeType);
        extraCondition = extraCondition?.to(computeType);
        var condition = timeEmbedding.forward(timesteps).Plus(labelEmbedding.forward(labels));
        if (prompts is not null && textEncoder is null)
            throw new ArgumentException("The model reads no text, but prompts were passed.");
        var prompt = textEncoder?.Encode(prompts ?? NullPrompts(noisyImages.shape[0], noisyImages.device));
        if (prompt is not null)
            condition = condition.Plus(promptProjection!.forward(prompt.Pooled));
        // Without record features the model gets the zero condition its training's dropout showed it, so a
        // pseudo-conditioned model (a released student) still samples plainly from its label alone.
        if (extraConditionProjection is not null)
            condition = condition.Plus(
                extraConditionProjection.forward(
                    extraCondition
                        ?? zeros(
                            noisyImages.shape[0],
                            _config.ExtraConditionDim,
                            dtype: noisyImages.dtype,
                            device: noisyImages.device
                        )
                )
            );

        var h = inputConv.forward(noisyImages);
        var skips = new Stack<Tensor>();
        var levels = _config.ChannelMultipliers.Length;
        var perLevel = _config.ResBlocksPerLevel;
        var crossAttended = 0;
        for (var level = 0; level < levels; level++)
        {
            for (var i = 0; i < perLevel; i++)
            {
                h = downBlocks[level * perLevel + i].forward(h, condition);
                if (prompt is not null && level > 0)
                    h = downCrossAttention[crossAttended++].forward(h, prompt);
            }
            skips.Push(h);
            h = downsamplers[level].forward(h);
        }

        h = middleAttention.forward(middleBlock1.forward(h, condition));
        if (prompt is not null)
            h = middleCrossAttention!.forward(h, prompt);
        h = middleBlock2.forward(h, condition);

        crossAttended = 0;
        for (var up = 0; up < levels; up++)
        {
            h = cat([h, skips.Pop()], dim: 1);
            for (var i = 0; i < perLevel; i++)
            {
                h = upBlocks[up * perLevel + i].forward(h, condition);
                if (prompt is not null && up < levels - 1)
                    h = upCrossAttention[crossAttended++].forward(h, prompt);
            }
            h = upsamplers[up].forward(h);
        }

        // One output channel per image channel: fewer than a oneDNN block, so padded (WholeBlockConvolution says why).
        return WholeBlockConvolution
            .Forward(outputConv, nn.functional.silu(outputNorm.forward(h)), padding: 1)
            .to(outputType)
            .MoveToOuterDisposeScope();
    }

    /// <summary>The null prompt for every row: what a text model reads when it is given none.</summary>
    public Tensor NullPrompts(long count, Device device)
    {
        var text = _config.Text ?? throw new InvalidOperationException("The model reads no text.");
        using var row = tensor(text.NullPromptRow(), dtype: int64, device: device);
        return row.unsqueeze(0).expand(count, -1).contiguous();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            timeEmbedding.Dispose();
            textEncoder?.Dispose();
            promptProjection?.Dispose();
            downCrossAttention.Dispose();
            middleCrossAttention?.Dispose();
            upCrossAttention.Dispose();
            labelEmbedding.Dispose();
            extraConditionProjection?.Dispose();
            inputConv.Dispose();
            downBlocks.Dispose();
            downsamplers.Dispose();
            middleBlock1.Dispose();
            middleAttention.Dispose();
            middleBlock2.Dispose();
            upBlocks.Dispose();
            upsamplers.Dispose();
            outputNorm.Dispose();
            outputConv.Dispose();
        }
        base.Dispose(disposing);
    }
}
