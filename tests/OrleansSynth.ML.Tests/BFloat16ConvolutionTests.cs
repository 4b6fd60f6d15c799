using System.Text.Json;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

public class BFloat16ConvolutionTests
{
    [Fact]
    public void MultipliesInBFloat16AndKeeps32BitParametersWithTheirGradients()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var conv = new BFloat16Convolution(8, 32, 3, stride: 2, padding: 1, reduced: true);
        using var input = randn(4, 8, 14, 14);
        var output = conv.forward(input);
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        Assert.Equal(new long[] { 4, 32, 7, 7 }, output.shape);

        // The same parameters in 32-bit floats give the same numbers to bfloat16's 3 significant digits.
        var weight = conv.parameters().Single(p => p.ndim == 4);
        var bias = conv.parameters().Single(p => p.ndim == 1);
        Assert.Equal(ScalarType.Float32, weight.dtype);
        using var exact = nn.functional.conv2d(input, weight, bias, strides: [2, 2], padding: [1, 1]);
        using var error = (output.to(float32) - exact).abs().max();
        using var scale = exact.abs().max();
        Assert.True(error.item<float>() < 0.02f * scale.item<float>(), $"error {error.item<float>()}");

        // Gradients reach the 32-bit parameters, where the optimiser reads them.
        output.to(float32).sum().backward();
        Assert.NotNull(weight.grad);
        Assert.Equal(ScalarType.Float32, weight.grad!.dtype);
        // Each bias's gradient counts the outputs it adds to: 4 images of 7 x 7.
        Assert.All(bias.grad!.data<float>().ToArray(), g => Assert.Equal(4 * 7 * 7f, g));
    }

    [Fact]
    public void Computes32BitFloatsWhenNotReducedAndLoadsAPlainConvolutionsState()
    {
        manual_seed(11);
        using var plain = nn.Conv2d(3, 16, 3, stride: 1, padding: 1);
        using var conv = new BFloat16Convolution(3, 16, 3, stride: 1, padding: 1, reduced: false);
        Assert.Equal(["weight", "bias"], conv.state_dict().Keys.ToArray());
        conv.load_state_dict(plain.state_dict());
        using var input = randn(2, 3, 8, 8);
        using var expected = plain.forward(input);
        using var output = conv.forward(input);
        Assert.Equal(ScalarType.Float32, output.dtype);
        Assert.True(output.allclose(expected, rtol: 0, atol: 0));
    }

    [Fact]
    public void TheVerifierConfigSettlesItsArithmeticOnceAndNamesItInItsKey()
    {
        var unsettled = new PairVerifierConfig();
        Assert.Null(unsettled.BFloat16);
        var settled = unsettled.ForDevice(CPU);
        Assert.Equal(BFloat16Arithmetic.IsNativeOnCpu, settled.BFloat16);
        Assert.Equal(settled, settled.ForDevice(CPU));
        Assert.False(
            new PairVerifierConfig { BFloat16 = false }
                .ForDevice(CPU)
                .BFloat16
        );
        Assert.True(
            new PairVerifierConfig { BFloat16 = true }
                .ForDevice(CPU)
                .BFloat16
        );

        // Serialised (cache keys, checkpoints, saved models): settled values named, the unsettled one left out.
        var options = OrleansSynth.ML.Training.DiffusionCheckpoint.JsonOptions;
        Assert.DoesNotContain("BFloat16", JsonSerializer.Serialize(unsettled, options));
        var written = JsonSerializer.Serialize(new PairVerifierConfig { BFloat16 = false }, options);
        Assert.Contains("\"BFloat16\":false", written);
        Assert.False(JsonSerializer.Deserialize<PairVerifierConfig>(written, options)!.BFloat16);
    }
}
