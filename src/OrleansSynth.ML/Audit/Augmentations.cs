using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>Random small shifts, noise, brightness and contrast changes: the ways a leaked copy may differ from its source.</summary>
public static class Augmentations
{
    /// <summary>Augments a batch [B,C,H,W] in [-1, 1]; every draw comes from <paramref name="generator"/>.</summary>
    public static Tensor Apply(Tensor images, AugmentationConfig config, Generator generator)
    {
        using var scope = NewDisposeScope();
        var (b, h, w) = (images.shape[0], images.shape[2], images.shape[3]);
        var shift = config.MaxShift;
        var padded = nn.functional.pad(images, [shift, shift, shift, shift], PaddingModes.Constant, -1.0);
        var offsets = randint(0, 2 * shift + 1, [b, 2], generator: generator).data<long>().ToArray();
        var crops = new Tensor[b];
        for (var i = 0; i < b; i++)
            crops[i] = padded[i].narrow(1, offsets[2 * i], h).narrow(2, offsets[2 * i + 1], w);
        var x = stack(crops);

        var contrast = 1 + (rand([b, 1, 1, 1], generator: generator) * 2 - 1) * config.MaxContrast;
        var brightness = (rand([b, 1, 1, 1], generator: generator) * 2 - 1) * config.MaxBrightness;
        var noiseScale = rand([b, 1, 1, 1], generator: generator) * config.MaxNoise;
        var noise = randn(x.shape, generator: generator) * noiseScale;
        x = (x * contrast.to(x.device) + brightness.to(x.device) + noise.to(x.device)).clamp(-1, 1);
        return x.MoveToOuterDisposeScope();
    }
}
