namespace OrleansSynth.ML.Runtime;

/// <summary>
/// Whether this machine's CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX): libtorch's oneDNN convolutions then
/// run in bfloat16 at about twice the pace of 32-bit floats; without those instructions it emulates bfloat16, slower
/// than 32-bit floats.
/// </summary>
public static class BFloat16Arithmetic
{
    private static readonly Lazy<bool> NativeOnCpu = new(ReadCpuFlags);

    /// <summary>True where <c>/proc/cpuinfo</c> lists <c>avx512_bf16</c> or <c>amx_bf16</c>.</summary>
    public static bool IsNativeOnCpu => NativeOnCpu.Value;

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
