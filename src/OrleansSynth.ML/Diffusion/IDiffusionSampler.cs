using OrleansSynth.ML.Models;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Diffusion;

/// <summary>Turns noise into images with a trained denoiser. Output is [N,C,H,W] in [-1, 1].</summary>
public interface IDiffusionSampler
{
    /// <summary>Network evaluations per image (each doubled when guidance mixes two branches).</summary>
    int StepCount { get; }

    /// <param name="progress">Called after every denoising step with (done, total).</param>
    Tensor Sample(UNet model, SamplingRequest request, Action<int, int>? progress = null);
}
