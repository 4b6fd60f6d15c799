using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>A model converted to bfloat16 for sampling: its caller's types in and out, and the numbers of 32-bit
/// floats within bfloat16's rounding, with record features and with prompts.</summary>
public class SamplingArithmeticTests
{
    [Fact]
    public void OnlyACpuThatMultipliesBFloat16NativelySamplesInIt()
    {
        using var model = new UNet(TinyModels.Diffusion(steps: 1).Model);
        SamplingArithmetic.Apply(model, CPU);
        var expected = SamplingArithmetic.UsesBFloat16(CPU) ? ScalarType.BFloat16 : ScalarType.Float32;
        Assert.All(model.parameters(), p => Assert.Equal(expected, p.dtype));
        Assert.False(SamplingArithmetic.UsesBFloat16(new Device(DeviceType.CUDA, 0)));
    }

    /// <summary>Guided sampling (the conditional and unconditional rows in one batch), with and without record
    /// features: the sampler's arithmetic stays 32-bit and the images follow the 32-bit model's.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GuidedSamplesOfABFloat16ModelFollowItsFloat32Original(bool withFeatures)
    {
        var config = TinyModels.Diffusion(steps: 1);
        var model = config.Model with { ExtraConditionDim = 8 };
        var (exact, converted) = ConvertedCopy(model, seed: 9);
        using var _ = exact;
        using var __ = converted;
        var features = withFeatures ? Enumerable.Range(0, 3 * 8).Select(i => MathF.Sin(i)).ToArray() : null;
        var request = new SamplingRequest([1, 4, 7], Seed: 13, GuidanceScale: 2) { ExtraCondition = features };
        var sampler = new DdimSampler(new GaussianDiffusion(config.Diffusion), 10);

        using var expected = sampler.Sample(exact, request);
        using var actual = sampler.Sample(converted, request);

        Assert.Equal(ScalarType.Float32, actual.dtype);
        using var difference = actual - expected;
        using var distance = difference.abs();
        using var error = distance.mean();
        Assert.InRange(error.item<float>(), 1e-6, 0.05);
    }

    [Fact]
    public void ABFloat16ModelPredictsWhatItsFloat32OriginalDoesInFloat32()
    {
        var config = TinyModels.Diffusion(steps: 1).Model with { ExtraConditionDim = 8, Text = TinyModels.Text };
        var (exact, converted) = ConvertedCopy(config, seed: 7);
        using var _ = exact;
        using var __ = converted;
        using var noGrad = no_grad();
        using var images = randn(4, 1, 28, 28);
        using var t = tensor(new long[] { 2, 20, 60, 99 });
        using var labels = tensor(new long[] { 0, 3, 9, config.NullLabel });
        using var features = randn(4, 8);
        using var prompts = tensor(
                new ReportTokenizer(TinyModels.Text).Rows(["a dark coat", null, "a wide shirt", "bag"])
            )
            .view(4, -1);

        using var expected = exact.Predict(images, t, labels, features, prompts);
        using var actual = converted.Predict(images, t, labels, features, prompts);

        Assert.Equal(ScalarType.Float32, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        // bfloat16 keeps 8 significant bits (about 0.4%); through a few dozen layers the error stays a few percent.
        using var difference = actual - expected;
        using var error = difference.norm();
        using var size = expected.norm();
        var relative = error.item<float>() / size.item<float>();
        Assert.InRange(relative, 1e-5, 0.05);
    }

    /// <summary>A randomly initialised model and a copy of it converted to bfloat16, both ready to sample.</summary>
    private static (UNet Exact, UNet Converted) ConvertedCopy(UNetConfig config, long seed)
    {
        manual_seed(seed);
        var exact = new UNet(config);
        var converted = new UNet(config);
        converted.load_state_dict(exact.state_dict());
        SamplingArithmetic.Apply(converted, inBFloat16: true);
        exact.eval();
        converted.eval();
        return (exact, converted);
    }
}
