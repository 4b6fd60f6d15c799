using System.Diagnostics;
using System.Globalization;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// Plain class-balanced sampling of a trained label-conditioned model (a teacher or a student) at several guidance
/// scales and sampler steps, each set scored by the pipeline's utility classifier trained on it and tested on the real
/// test split: what the sampling settings are worth without a pipeline run.
/// </summary>
public static class SampleRecipeBenchmark
{
    public static int Run(string checkpoint, string dataset, int count, int classifierSteps, string[] variants)
    {
        var test = DatasetCatalog.Load(dataset, DatasetSplit.Test);
        Console.WriteLine($"{count} samples per variant, {test.Count} test images, classifier {classifierSteps} steps");
        foreach (var variant in variants)
        {
            // "guidance/steps[+float32|bfloat16]", e.g. 2/15 or 2/15+float32.
            var (recipe, bfloat16) = SamplingArithmeticSuffix.Split(variant);
            var parts = recipe.Split('/');
            if (parts.Length != 2)
                throw new ArgumentException($"'{variant}': expected guidance/steps[+arithmetic], e.g. 2/15.");
            var (model, header) = SamplingArithmeticSuffix.Load(checkpoint, bfloat16);
            using var _ = model;
            var m = header.Config.Model;
            var (guidance, steps) = (
                double.Parse(parts[0], CultureInfo.InvariantCulture),
                int.Parse(parts[1], CultureInfo.InvariantCulture)
            );
            var clock = Stopwatch.StartNew();
            var sampler = SamplerCatalog.Create(
                SamplerCatalog.DpmSolverPlusPlus,
                new GaussianDiffusion(header.Config.Diffusion),
                steps
            );
            var labels = Enumerable.Range(0, count).Select(i => (long)(i % m.NumClasses)).ToArray();
            var pixels = new List<byte>();
            // Shards of 250, as the pipeline's default preset draws them.
            for (var start = 0; start < count; start += 250)
            {
                using var images = sampler.Sample(
                    model,
                    new SamplingRequest(
                        labels[start..Math.Min(start + 250, count)],
                        (long)SeedMixer.Mix(1, start),
                        guidance
                    )
                );
                pixels.AddRange(ImageTensors.ToBytes(images));
            }
            var samples = new ImageDataset(
                "samples",
                pixels.ToArray(),
                m.ImageChannels,
                m.ImageSize,
                m.ImageSize,
                labels,
                Enumerable.Range(0, count).Select(i => $"sample-{i}").ToArray(),
                numClasses: m.NumClasses
            );
            var sampling = clock.Elapsed;
            var evaluation = PipelineClassifier.Score(samples, test, classifierSteps);
            Console.WriteLine(
                $"{variant, -16} accuracy {evaluation.Accuracy:P2} macro AUC "
                    + $"{evaluation.MacroAuc:F4} (sampling {sampling.TotalSeconds:F0} s, classifier "
                    + $"{(clock.Elapsed - sampling).TotalSeconds:F0} s)"
            );
        }
        return 0;
    }
}
