using System.Runtime.InteropServices;

namespace OrleansSynth.ML.Runtime;

/// <summary>
/// Tunes glibc's allocator for tensor work. By default it returns freed blocks above 128 KiB to the kernel and trims
/// the heap top, so every sampling step's activations come back as fresh zero-filled pages: a default diversity-aware
/// run spent 18% of its CPU time in the kernel on page faults. Keeping freed memory for reuse removes most of that
/// (docs/lab-notebook.md, "A better teacher in the same half hour"). It also keeps every thread on the main heap: other
/// threads (the silo's compute thread, libtorch's OpenMP workers) otherwise get arenas of at most 64 MiB, too small for
/// a sampling batch's tensors, which glibc then maps and unmaps on every use (twins on a dedicated thread: 6.3 million
/// minor faults and 45 s in the kernel, against 0.7 million and 6 s on one arena; docs/lab-notebook.md, "One allocator
/// arena"). A computing process calls <see cref="ConfigureAtStart"/> first thing.
/// </summary>
public static class NativeAllocator
{
    /// <summary>The largest mmap threshold glibc accepts on 64-bit (half its heap size).</summary>
    public const int MmapThresholdBytes = 32 << 20;

    /// <summary>
    /// No block is mapped on its own, however large: above the threshold glibc would map and unmap it on every use, and
    /// a sampling slice's widest activation (128 rows of 96 channels at 28 x 28, 37 MiB) is above it.
    /// </summary>
    public const int MmapCount = 0;
    public const int TrimThresholdBytes = 1 << 30;
    public const int TopPadBytes = 64 << 20;

    /// <summary>One arena: the computing threads are few, so sharing its lock costs less than per-thread heaps that
    /// shrink.</summary>
    public const int ArenaCount = 1;

    // mallopt parameters, from <malloc.h>.
    private const int TrimThreshold = -1,
        TopPad = -2,
        MmapThreshold = -3,
        MmapMax = -4,
        ArenaMax = -8;

    /// <summary>The same settings as glibc tunables, for a child process (the PyTorch reference runs under them
    /// too).</summary>
    public static string GlibcTunables =>
        $"glibc.malloc.mmap_threshold={MmapThresholdBytes}:glibc.malloc.trim_threshold={TrimThresholdBytes}:"
        + $"glibc.malloc.top_pad={TopPadBytes}:glibc.malloc.mmap_max={MmapCount}:"
        + $"glibc.malloc.arena_max={ArenaCount}";

    /// <summary>The environment variable glibc reads its tunables from, once, when a process starts.</summary>
    public const string TunablesVariable = "GLIBC_TUNABLES";

    /// <summary>Whether this process started under <see cref="GlibcTunables"/>.</summary>
    public static bool StartedUnderTunables =>
        Environment.GetEnvironmentVariable(TunablesVariable)?.Contains(GlibcTunables, StringComparison.Ordinal) == true;

    /// <summary>
    /// Puts this process under the allocator settings: unless it started under <see cref="GlibcTunables"/>, it is
    /// executed again in place (execve: same pid, arguments and environment plus the tunables), since mallopt alone
    /// cannot move threads off the arenas glibc gave the .NET runtime's threads before Main ran (the default
    /// diversity-aware+distillation run on mallopt alone: 87 million minor faults; the diversity-aware run under the
    /// tunables: 1.7 million). Where that is impossible (not Linux, no /proc, no glibc, execve refused) it returns and
    /// falls back to <see cref="KeepFreedMemory"/>.
    /// </summary>
    public static void ConfigureAtStart()
    {
        if (OperatingSystem.IsLinux() && !StartedUnderTunables)
            ExecuteAgainUnderTunables();
        KeepFreedMemory();
    }

    private static void ExecuteAgainUnderTunables()
    {
        string[] arguments;
        try
        {
            // NUL-separated with a trailing NUL: exactly the argv this process was started with.
            arguments = File.ReadAllText("/proc/self/cmdline").Split('\0')[..^1];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        var existing = Environment.GetEnvironmentVariable(TunablesVariable);
        var environment = Environment
            .GetEnvironmentVariables()
            .Cast<System.Collections.DictionaryEntry>()
            .Where(e => (string)e.Key != TunablesVariable)
            .Select(e => $"{e.Key}={e.Value}")
            .Append($"{TunablesVariable}={(string.IsNullOrEmpty(existing) ? "" : existing + ":")}{GlibcTunables}")
            .ToArray();
        var argv = ToNative(arguments);
        var envp = ToNative(environment);
        try
        {
            // The executable by its own path, so ps and top still name it (not "exe").
            execve(Environment.ProcessPath ?? "/proc/self/exe", argv, envp); // returns only on failure
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not a C library with execve: the process goes on under mallopt alone.
        }
        finally
        {
            foreach (var pointer in argv.Concat(envp))
                Marshal.FreeCoTaskMem(pointer);
        }
    }

    // A NULL-terminated array of UTF-8 strings, as execve takes them.
    private static IntPtr[] ToNative(string[] strings) =>
        [.. strings.Select(Marshal.StringToCoTaskMemUTF8), IntPtr.Zero];

    /// <summary>Keeps freed native memory for reuse; false where the C library is not glibc (nothing changed
    /// then).</summary>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            return mallopt(MmapThreshold, MmapThresholdBytes) == 1
                & mallopt(TrimThreshold, TrimThresholdBytes) == 1
                & mallopt(TopPad, TopPadBytes) == 1
                & mallopt(MmapMax, MmapCount) == 1
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

    [DllImport("libc", ExactSpelling = true)]
    private static extern int execve([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr[] argv, IntPtr[] envp);
#pragma warning restore SYSLIB1054
}
