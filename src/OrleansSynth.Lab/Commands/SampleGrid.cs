using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Models;
using Spectre.Console;

namespace OrleansSynth.Lab.Commands;

/// <summary>Samples <c>perClass</c> images of every class (one row per class) and writes them as one PNG
/// grid.</summary>
internal static class SampleGrid
{
    public static void Write(
        UNet model,
        IDiffusionSampler sampler,
        int perClass,
        double guidance,
        long seed,
        string path
    )
    {
        var classes = model.Config.NumClasses;
        var labels = Enumerable.Range(0, classes).SelectMany(c => Enumerable.Repeat((long)c, perClass)).ToArray();
        AnsiConsole.WriteLine($"sampling {labels.Length} images ({sampler.StepCount} steps, guidance {guidance}) ...");
        var started = DateTime.UtcNow;
        using var images = sampler.Sample(model, new SamplingRequest(labels, seed, guidance));
        ImageTensors.Grid(images, columns: perClass, scale: 2).Write(path);
        AnsiConsole.WriteLine($"wrote {path} in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
    }
}
