using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// The ways a leaked copy may differ from its source, all at once: a small rotation, zoom (a crop resized back) and
/// shift, blur, gain and offset, and noise. The encoder learns to see through them; the audit's canaries are made
/// with them to measure whether it does.
/// </summary>
public static class NearCopyPerturbations
{
    /// <summary>Perturbs a batch [B,C,H,W] in [-1, 1]: every image gets every change, each of a random size within
    /// <paramref name="ranges"/>.</summary>
    public static Tensor Apply(Tensor images, PerturbationRanges ranges, Generator generator)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (b, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3]);
        // Every draw on the CPU generator, so a batch perturbs the same way on any device.
        Tensor Symmetric(double max) => rand([b], generator: generator).Times(2).Minus(1).Times(max).to(images.device);
        Tensor Unit() => rand([b], generator: generator).to(images.device);

        var angle = Symmetric(ranges.MaxRotationDegrees * Math.PI / 180);
        var zoom = Symmetric(ranges.MaxScale).Plus(1);
        var theta = zeros(b, 2, 3, device: images.device);
        theta[.., 0, 0] = angle.cos() / zoom;
        theta[.., 0, 1] = -angle.sin() / zoom;
        theta[.., 1, 0] = angle.sin() / zoom;
        theta[.., 1, 1] = angle.cos() / zoom;
        theta[.., 0, 2] = Symmetric(ranges.MaxShift * 2.0 / w);
        theta[.., 1, 2] = Symmetric(ranges.MaxShift * 2.0 / h);
        var grid = nn.functional.affine_grid(theta, [b, c, h, w], align_corners: false);
        var x = nn.functional.grid_sample(
            images,
            grid,
            GridSampleMode.Bilinear,
            GridSamplePaddingMode.Border,
            align_corners: false
        );

        if (ranges.MaxBlur > 0)
        {
            // A blend towards one Gaussian blur gives each image its own amount of blur with a single convolution.
            var blurred = Blur(x, ranges.MaxBlur);
            x = x.Plus(Unit().view(b, 1, 1, 1) * (blurred - x));
        }
        var gain = Symmetric(ranges.MaxContrast).view(b, 1, 1, 1).Plus(1);
        var offset = Symmetric(ranges.MaxBrightness).view(b, 1, 1, 1);
        var noise =
            randn([b, c, h, w], generator: generator).to(images.device)
            * Unit().Times(ranges.MaxNoise).view(b, 1, 1, 1);
        return (x * gain).Plus(offset).Plus(noise).Clamp(-1, 1).MoveToOuterDisposeScope();
    }

    /// <summary>A Gaussian blur of sigma pixels, edges replicated.</summary>
    public static Tensor Blur(Tensor x, double sigma)
    {
        var radius = Math.Max(1, (int)Math.Ceiling(2 * sigma));
        var taps = Enumerable
            .Range(-radius, 2 * radius + 1)
            .Select(i => (float)Math.Exp(-i * i / (2 * sigma * sigma)))
            .ToArray();
        var sum = taps.Sum();
        var kernel1d = tensor(taps.Select(t => t / sum).ToArray(), device: x.device);
        var channels = x.shape[1];
        var kernel = outer(kernel1d, kernel1d).expand(channels, 1, -1, -1).contiguous();
        var padded = nn.functional.pad(x, [radius, radius, radius, radius], PaddingModes.Replicate);
        return nn.functional.conv2d(padded, kernel, groups: channels);
    }
}

/// <summary>The largest size of each change <see cref="NearCopyPerturbations"/> makes; each image draws its own size up
/// to these.</summary>
public sealed record PerturbationRanges
{
    /// <summary>Largest translation in pixels, each axis.</summary>
    public double MaxShift { get; init; } = 3;

    /// <summary>Largest rotation in degrees, either way.</summary>
    public double MaxRotationDegrees { get; init; } = 5;

    /// <summary>Largest zoom in or out, as a fraction (a crop of 5% resized back is 0.05).</summary>
    public double MaxScale { get; init; } = 0.05;

    /// <summary>Largest Gaussian blur, as sigma in pixels.</summary>
    public double MaxBlur { get; init; } = 1.0;

    /// <summary>Largest contrast (gain) change, as a fraction.</summary>
    public double MaxContrast { get; init; } = 0.2;

    /// <summary>Largest brightness offset, in [-1, 1] image units.</summary>
    public double MaxBrightness { get; init; } = 0.15;

    /// <summary>Largest standard deviation of added Gaussian noise, in [-1, 1] image units.</summary>
    public double MaxNoise { get; init; } = 0.08;

    /// <summary>What the encoder trains to see through: wider than the canaries, so they sit well inside what it
    /// learned.</summary>
    public static PerturbationRanges EncoderTraining { get; } = new();

    /// <summary>The canaries' changes: small ones, as a generator's near-copy would have (up to 2 pixels, 3 degrees, 3%
    /// zoom, 6 grey levels of noise).</summary>
    public static PerturbationRanges Canary { get; } =
        new()
        {
            MaxShift = 2,
            MaxRotationDegrees = 3,
            MaxScale = 0.03,
            MaxBlur = 0.7,
            MaxContrast = 0.12,
            MaxBrightness = 0.1,
            MaxNoise = 0.05,
        };

    /// <summary>Mild changes for classifier training.</summary>
    public static PerturbationRanges ClassifierTraining { get; } =
        new()
        {
            MaxShift = 1,
            MaxRotationDegrees = 0,
            MaxScale = 0,
            MaxBlur = 0,
            MaxContrast = 0.05,
            MaxBrightness = 0.05,
            MaxNoise = 0.05,
        };
}
