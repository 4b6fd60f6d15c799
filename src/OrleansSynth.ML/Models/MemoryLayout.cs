using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>
/// The channels-last (NHWC) memory order for a convolution stack's input: libtorch's CPU convolutions then run their
/// NHWC kernels, and the order carries through batch normalisation and ReLU. The pair verifier's forward and backward
/// pass took 33 ms instead of 40 (128 pairs, docs/lab-notebook.md); a UNet's only 3% less, not worth it.
/// </summary>
public static class MemoryLayout
{
    /// <summary>The same values, shape and autograd history, stored pixel by pixel (TorchSharp has no
    /// memory-format argument for this).</summary>
    public static Tensor ChannelsLast(Tensor images) => images.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
