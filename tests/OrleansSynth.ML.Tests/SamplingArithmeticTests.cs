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
    private static readonly TextEncoderConfig SmallText = new()
    {
        Dim = 32,
        Heads = 2,
        Layers = 1,
        MaxTokens = 16,
    };

    [Fact]
    public void OnlyACpuThatMultipliesBFloat16NativelySamplesInIt()
    {
        using var model = new UNet(TinyModels.Diffusion(steps: 1).Model);
        SamplingArithmetic.Apply(model, CPU);
        var expected = SamplingArithmetic.UsesBFloat16(CPU) ? ScalarType.BFloat16 : ScalarType.Float32;
        Assert.All(model.parameters(), p => Assert.Equal(expected, p.dtype));
        Assert.False(SamplingArithmetic.UsesBFloat16(new Device(DeviceType.CUDA, 0)));
    }

    [Fact]
    public void ABFloat16ModelPredictsWhatItsFloat32OriginalDoesInFloat32()
    {
        var config = TinyModels.Diffusion(steps: 1).Model with { ExtraConditionDim = 8, Text = SmallText };
        manual_seed(7);
        using var exact = new UNet(config);
        using var converted = new UNet(config);
        converted.load_state_dict(exact.state_dict());
        converted.to(ScalarType.BFloat16);
        exact.eval();
        converted.eval();
        using var noGrad = no_grad();
        using var images = randn(4, 1, 28, 28);
        using var t = tensor(new long[] { 5, 200, 600, 990 });
        using var labels = tensor(new long[] { 0, 3, 9, config.NullLabel });
        using var features = randn(4, 8);
        using var prompts = tensor(new ReportTokenizer(SmallText).Rows(["a dark coat", null, "a wide shirt", "bag"]))
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
}
