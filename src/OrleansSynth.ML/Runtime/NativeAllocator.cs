using System.Runtime.InteropServices;

namespace OrleansSynth.ML.Runtime;

/// <summary>
/// Tunes glibc's allocator for tensor work. By default it returns freed blocks above 128 KiB to the kernel and trims
/// the heap top, so every sampling step's activations come back as fresh zero-filled pages: a default diversity-aware
/// run spent 18% of its CPU time in the kernel on page faults. Keeping freed memory for reuse removes most of that (README,
/// "A better teacher in the same half hour"). It also keeps every thread on the main heap: other threads (the silo's compute
/// thread, libtorch's OpenMP workers) otherwise get arenas of at most 64 MiB that glibc shrinks as soon as blocks are freed,
/// which brought the page faults back (twins on a dedicated thread: 6.3 million minor faults and 45 s in the kernel, against
/// 0.7 million and 6 s on one arena; README, "Guidance 1 and three times the twins"). Call once, first thing, in a process
/// that computes (silo, lab, benchmarks), before it starts the threads that compute.
/// </summary>
public static class NativeAllocator
{
    /// <summary>The largest mmap threshold glibc accepts on 64-bit (half its heap size); bigger blocks are still mapped.</summary>
    public const int MmapThresholdBytes = 32 << 20;
    public const int TrimThresholdBytes = 1 << 30;
    public const int TopPadBytes = 64 << 20;
    /// <summary>One arena: the computing threads are few, so sharing its lock costs less than per-thread heaps that shrink.</summary>
    public const int ArenaCount = 1;

    // mallopt parameters, from <malloc.h>.
    private const int TrimThreshold = -1, TopPad = -2, MmapThreshold = -3, ArenaMax = -8;

    /// <summary>The same settings as glibc tunables, for a child process (the PyTorch reference runs under them too).</summary>
    public static string GlibcTunables =>
        $"glibc.malloc.mmap_threshold={MmapThresholdBytes}:glibc.malloc.trim_threshold={TrimThresholdBytes}:glibc.malloc.top_pad={TopPadBytes}:glibc.malloc.arena_max={ArenaCount}";

    /// <summary>Keeps freed native memory for reuse; false where the C library is not glibc (nothing changed then).</summary>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return mallopt(MmapThreshold, MmapThresholdBytes) == 1
                & mallopt(TrimThreshold, TrimThresholdBytes) == 1
                & mallopt(TopPad, TopPadBytes) == 1
                & mallopt(ArenaMax, ArenaCount) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

#pragma warning disable SYSLIB1054 // a plain int call needs no marshalling code; LibraryImport would need unsafe blocks
    [DllImport("libc", ExactSpelling = true)]
    private static extern int mallopt(int param, int value);
#pragma warning restore SYSLIB1054
}
