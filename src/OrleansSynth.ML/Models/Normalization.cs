using OrleansSynth.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

internal static class Normalization
{
    /// <summary>
    /// GroupNorm with its affine parameters set explicitly: TorchSharp 0.107's GroupNorm can come up with
    /// uninitialised (even NaN) weight and bias, which poisons the whole network.
    /// </summary>
    public static GroupNorm Group(int groups, int channels)
    {
        var norm = nn.GroupNorm(groups, channels);
        using var noGrad = no_grad();
        norm.weight!.fill_(TensorArithmetic.One);
        norm.bias!.zero_();
        return norm;
    }
}
