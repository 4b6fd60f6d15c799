using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

public class WholeBlockConvolutionTests
{
    [Fact]
    public void GivesTheConvolutionsOutputAndGradientsForAnyOutputChannelCount()
    {
        foreach (var outChannels in new[] { 1, 3, 16, 20 })
        {
            manual_seed(5);
            using var conv = nn.Conv2d(32, outChannels, 3, padding: 1);
            using var input = randn(4, 32, 12, 12);
            using var target = randn(4, outChannels, 12, 12);

            var x = input.clone().requires_grad_(true);
            var loss = (WholeBlockConvolution.Forward(conv, x, padding: 1) - target).Squared().mean();
            loss.backward();

            // Reference in float64, which libtorch computes without oneDNN.
            using var reference = nn.Conv2d(32, outChannels, 3, padding: 1, dtype: float64);
            using (no_grad())
            {
                reference.weight!.copy_(conv.weight!);
                reference.bias!.copy_(conv.bias!);
            }
            var x64 = input.to(float64).requires_grad_(true);
            var loss64 = (reference.forward(x64) - target.to(float64)).Squared().mean();
            loss64.backward();

            Assert.Equal(loss64.item<double>(), loss.item<float>(), 4);
            AssertClose(x64.grad!, x.grad!, $"input gradient, {outChannels} channels");
            AssertClose(reference.weight!.grad!, conv.weight!.grad!, $"weight gradient, {outChannels} channels");
            AssertClose(reference.bias!.grad!, conv.bias!.grad!, $"bias gradient, {outChannels} channels");
        }
    }

    [Fact]
    public void InputGradientsThroughAOneChannelOutputStayFinite()
    {
        // The UNet's last layer. Plain conv.forward gave NaN input gradients in some of these passes on an AVX-512 CPU.
        manual_seed(6);
        using var norm = Normalization.Group(8, 32);
        using var conv = nn.Conv2d(32, 1, 3, padding: 1);
        for (var pass = 0; pass < 30; pass++)
        {
            using var scope = NewDisposeScope();
            var x = randn(16, 32, 28, 28).requires_grad_(true);
            var y = WholeBlockConvolution.Forward(conv, nn.functional.silu(norm.forward(x)), padding: 1);
            (y - randn_like(y)).Squared().mean().backward();
            Assert.True(x.grad!.isfinite().all().item<bool>(), $"pass {pass}: non-finite input gradient");
        }
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        var difference = (expected - actual.to(float64)).abs().max().item<double>();
        var scale = expected.abs().max().item<double>();
        Assert.True(
            difference <= 1e-4 * Math.Max(scale, 1e-6),
            $"{what}: largest difference {difference:G3} against a scale of {scale:G3}"
        );
    }
}
