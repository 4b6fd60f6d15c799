using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Runtime;

/// <summary>
/// Whether this machine's CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX), so libtorch's oneDNN convolutions in
/// bfloat16 are quicker than in 32-bit floats (the pair verifier's step 19% less time); without those instructions
/// libtorch emulates bfloat16.
/// </summary>
public static class BFloat16Arithmetic
{
    private static readonly Lazy<bool> NativeOnCpu = new(ReadCpuFlags);

    /// <summary>True where <c>/proc/cpuinfo</c> lists <c>avx512_bf16</c> or <c>amx_bf16</c>.</summary>
    public static bool IsNativeOnCpu => NativeOnCpu.Value;

    /// <summary>True on a CPU where <see cref="IsNativeOnCpu"/>; a GPU keeps 32-bit floats.</summary>
    public static bool IsNativeOn(Device device) => device.type == DeviceType.CPU && IsNativeOnCpu;

    private static bool ReadCpuFlags()
    {
        try
        {
            var flags = File.ReadLines("/proc/cpuinfo")
                .FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            return flags is not null
                && flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(f => f is "avx512_bf16" or "amx_bf16");
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
