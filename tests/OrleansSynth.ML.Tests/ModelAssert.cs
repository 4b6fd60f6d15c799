using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

internal static class ModelAssert
{
    /// <summary>Every tensor of the two modules' state equal to the bit.</summary>
    public static void SameWeights(nn.Module expected, nn.Module actual)
    {
        var actualState = actual.state_dict();
        foreach (var (name, tensor) in expected.state_dict())
        {
            using var difference = (tensor - actualState[name]).abs().max();
            // Exact: same seed, same batches, same thread count on the same machine.
            Assert.True(difference.item<float>() == 0f, $"{name} differs by {difference.item<float>()}");
        }
    }
}
