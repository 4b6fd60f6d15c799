using System.Diagnostics;
using System.Globalization;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Diversity;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// Twin settings on a trained pseudo-conditioned teacher: for each variant, twins of the same evenly spread real
/// records (as a pipeline's twin job picks them), then the pipeline's utility classifier trained on them and tested on
/// the real test split. Reuses a run's teacher, feature extractor and calibrated re-identification model (artifact
/// files), so a variant costs its sampling and one classifier, not a pipeline run.
/// </summary>
public static class TwinRecipeBenchmark
{
    /// <param name="Spec">"K x kept @ guidance / sampler steps [: candidates per sampling batch] [+ float32 |
    /// bfloat16]", e.g. 3x3@1.4/15, 3x3@1/15:256 or 3x3@1/15+float32 (<see cref="SamplingArithmeticSuffix"/>).</param>
    private sealed record Variant(
        string Spec,
        int Candidates,
        int Kept,
        double Guidance,
        int SamplerSteps,
        int SamplingBatch,
        bool? BFloat16
    )
    {
        public static Variant Parse(string spec)
        {
            var (recipe, bfloat16) = SamplingArithmeticSuffix.Split(spec);
            var parts = recipe.Split('x', '@', '/', ':');
            if (parts.Length is not (4 or 5))
                throw new ArgumentException(
                    $"'{spec}': expected K x kept @ guidance / steps [: batch] [+ arithmetic], e.g. 3x3@1.4/15."
                );
            var n = parts.Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            return new(
                spec,
                (int)n[0],
                (int)n[1],
                n[2],
                (int)n[3],
                n.Length == 5 ? (int)n[4] : TwinGenerator.DefaultSamplingBatch,
                bfloat16
            );
        }
    }

    public static int Run(
        string teacher,
        string featureExtractor,
        string reidentification,
        string dataset,
        int records,
        int classifierSteps,
        string[] variants
    )
    {
        var training = DatasetCatalog.Load(dataset, DatasetSplit.Train);
        var test = DatasetCatalog.Load(dataset, DatasetSplit.Test);
        // The pipeline's record choice: evenly spread over the split.
        var sources = training.Subset(
            Enumerable.Range(0, records).Select(i => TwinRecords.RecordIndex(i, records, training.Count)).ToArray(),
            "sources"
        );
        using var classifier = ClassifierTrainer.LoadModel(featureExtractor, CPU);
        using var reid = ReidentificationModel.Load(reidentification, CPU);
        Console.WriteLine($"{records} records twinned, {test.Count} test images, classifier {classifierSteps} steps");
        foreach (var variant in variants.Select(Variant.Parse))
        {
            var (model, header) = SamplingArithmeticSuffix.Load(teacher, variant.BFloat16);
            using var _ = model;
            var clock = Stopwatch.StartNew();
            var settings = new TwinSettings(variant.Candidates, variant.Guidance, TwinsPerRecord: variant.Kept);
            var sampler = SamplerCatalog.Create(
                SamplerCatalog.DpmSolverPlusPlus,
                new GaussianDiffusion(header.Config.Diffusion),
                variant.SamplerSteps
            );
            var generator = new TwinGenerator(model, sampler, classifier, reid, settings)
            {
                SamplingBatch = variant.SamplingBatch,
            };
            // Shards of 250 records with the pipeline's per-shard seeds.
            var pixels = new List<byte>();
            var labels = new List<long>();
            for (var start = 0; start < records; start += 250)
            {
                var shard = sources.Subset(
                    Enumerable.Range(start, Math.Min(250, records - start)).ToArray(),
                    $"shard-{start}"
                );
                var batch = generator.Generate(shard, (long)SeedMixer.Mix(1, start));
                pixels.AddRange(batch.Pixels);
                labels.AddRange(batch.Labels);
            }
            var twins = new ImageDataset(
                "twins",
                pixels.ToArray(),
                training.Channels,
                training.Height,
                training.Width,
                labels.ToArray(),
                Enumerable.Range(0, labels.Count).Select(i => $"twin-{i}").ToArray(),
                numClasses: training.NumClasses
            );
            var sampling = clock.Elapsed;
            var evaluation = PipelineClassifier.Score(twins, test, classifierSteps);
            Console.WriteLine(
                $"{variant.Spec, -22} {twins.Count} twins, accuracy {evaluation.Accuracy:P2} macro AUC "
                    + $"{evaluation.MacroAuc:F4} (twins {sampling.TotalSeconds:F0} s, classifier "
                    + $"{(clock.Elapsed - sampling).TotalSeconds:F0} s)"
            );
        }
        return 0;
    }
}
