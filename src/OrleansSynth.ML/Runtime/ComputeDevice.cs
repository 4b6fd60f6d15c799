using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Runtime;

/// <summary>Chooses where tensors live: CUDA when TorchSharp sees a GPU, else the CPU.</summary>
public static class ComputeDevice
{
    /// <summary>The preferred device, optionally forced by name ("cpu", "cuda", "cuda:1").</summary>
    public static Device Select(string? requested = null)
    {
        if (!string.IsNullOrWhiteSpace(requested) && requested != "auto")
        {
            var device = torch.device(requested);
            if (device.type == DeviceType.CUDA && !cuda.is_available())
                throw new InvalidOperationException(
                    $"Device '{requested}' was requested but CUDA is not available on this machine."
                );
            return device;
        }
        return cuda.is_available() ? CUDA : CPU;
    }

    /// <summary>Number of GPUs this process can use (0 on CPU-only builds).</summary>
    public static int GpuCount => cuda.is_available() ? cuda.device_count() : 0;
}
