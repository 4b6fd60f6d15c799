using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Text;
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
        string path,
        string? prompt = null
    )
    {
        var classes = model.Config.NumClasses;
        var labels = Enumerable.Range(0, classes).SelectMany(c => Enumerable.Repeat((long)c, perClass)).ToArray();
        if (prompt is not null && model.Config.Text is null)
            throw new ArgumentException("--prompt: this model was trained without reports and reads no text.");
        var request = new SamplingRequest(labels, seed, guidance)
        {
            PromptTokens = prompt is null
                ? null
                :
                [
                    .. Enumerable
                        .Repeat(new ReportTokenizer(model.Config.Text!).Row(prompt), labels.Length)
                        .SelectMany(r => r),
                ],
        };
        AnsiConsole.WriteLine(
            $"sampling {labels.Length} images ({sampler.StepCount} steps, guidance {guidance}"
                + $"{(prompt is null ? "" : ", prompted")}) ..."
        );
        var started = DateTime.UtcNow;
        using var images = sampler.Sample(model, request);
        ImageTensors.Grid(images, columns: perClass, scale: 2).Write(path);
        AnsiConsole.WriteLine($"wrote {path} in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
    }
}
