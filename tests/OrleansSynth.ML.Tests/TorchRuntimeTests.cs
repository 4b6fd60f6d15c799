using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void NativeLibraryLoadsAndAConvNetTakesAGradientStep()
    {
        // Fails with "GLIBCXX_3.4.32 not found" on Debian 12 unless the build patched libLibTorchSharp.so.
        using var conv = nn.Conv2d(1, 4, 3, padding: 1);
        using var optimizer = new Training.Adam(conv.parameters(), 1e-3); // small: one step then surely lowers the loss
        using var input = ones(2, 1, 8, 8);
        using var before = conv.forward(input).Squared().mean();
        before.backward();
        optimizer.step();
        using var after = conv.forward(input).Squared().mean();
        Assert.True(after.item<float>() < before.item<float>());
    }

    [Fact]
    public void BuildOutputCopyOfLibTorchSharpHasTheGlibcxxRequirementMarkedWeak()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var library = Directory
            .GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories)
            .Single();
        Assert.True(
            ElfVersionNeeds.IsWeak(library, "GLIBCXX_3.4.32"),
            $"{library} still requires GLIBCXX_3.4.32 strictly"
        );
    }

    [Fact]
    public void OnGlibcTheAllocatorAcceptsTheSettingsThatKeepFreedTensorMemory()
    {
        // mallopt refuses values out of its range (an mmap threshold above 32 MiB, say) by returning 0.
        if (!OperatingSystem.IsLinux())
            return;
        Assert.True(NativeAllocator.KeepFreedMemory());
    }
}
