using System.Diagnostics;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Evaluation;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// Which sampler gives the most quality per second: a teacher trained as the default preset trains it (1,200 steps of
/// 64, 32 base channels, cached), then the same labels and seed sampled with DDIM and DPM-Solver++ at several step
/// counts; each set's Fréchet distance to the 10,000 test images in the features of a classifier trained on the real
/// training set (800 steps, as the report's), and its sampling time. The teacher's peak learning rate can be set, to
/// compare training recipes at the same steps.
/// </summary>
internal static class SamplerFidelityBenchmark
{
    public static int Run(
        int teacherSteps,
        int samples,
        IReadOnlyList<(string Sampler, int Steps)> settings,
        string cache,
        double learningRate
    )
    {
        Directory.CreateDirectory(cache);
        var train = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Train);
        var test = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Test);
        var clock = Stopwatch.StartNew();
        // The default rate keeps the cache file name earlier runs wrote.
        var rateSuffix = learningRate == 1e-3 ? "" : FormattableString.Invariant($"-lr{learningRate:G}");
        using var teacher = Teacher(
            train,
            teacherSteps,
            learningRate,
            Path.Combine(cache, $"teacher-{teacherSteps}{rateSuffix}.ckpt")
        );
        using var classifier = Classifier(train, Path.Combine(cache, "classifier-800.ckpt"));
        Console.WriteLine(
            $"teacher ({teacherSteps} steps, learning rate {learningRate:G}) and classifier ready in "
                + $"{clock.Elapsed.TotalSeconds:F0} s; {samples} samples per set, guidance 2, {get_num_threads()} "
                + $"threads"
        );
        using var realFeatures = classifier.Features(test);
        var labels = Enumerable.Range(0, samples).Select(i => (long)(i % train.NumClasses)).ToArray();
        foreach (var (name, steps) in settings)
        {
            var sampler = SamplerCatalog.Create(name, teacher.Diffusion, steps);
            clock.Restart();
            using var images = sampler.Sample(teacher.Ema, new SamplingRequest(labels, Seed: 11, GuidanceScale: 2.0));
            var seconds = clock.Elapsed.TotalSeconds;
            var set = new ImageDataset(
                name,
                ImageTensors.ToBytes(images),
                1,
                28,
                28,
                labels,
                labels.Select((_, i) => $"{i}").ToArray(),
                numClasses: train.NumClasses
            );
            using var features = classifier.Features(set);
            var accuracy = ClassifierTrainer.Evaluate(classifier, set).Accuracy;
            Console.WriteLine(
                $"{name} {steps, 3} steps: Fréchet distance {FrechetDistance.Compute(realFeatures, features), 6:F1}, "
                    + $"real classifier agrees with the label on {accuracy:P1}, {seconds, 6:F1} s "
                    + $"({samples / seconds:F2} images/s)"
            );
        }
        return 0;
    }

    private static DiffusionTrainer Teacher(ImageDataset train, int steps, double learningRate, string checkpoint)
    {
        if (File.Exists(checkpoint))
            return DiffusionTrainer.Resume(checkpoint);
        var trainer = new DiffusionTrainer(
            new DiffusionModelConfig
            {
                Model = new UNetConfig { BaseChannels = 32, GroupNormGroups = 8 },
                Diffusion = new DiffusionConfig { Timesteps = 1000 },
                Training = new TrainingConfig
                {
                    Steps = steps,
                    BatchSize = 64,
                    LearningRate = learningRate,
                    Seed = 1,
                    CheckpointEvery = 0,
                },
            }
        );
        trainer.Train(train, progress: p =>
        {
            if (p.Step % 200 == 0)
                Console.WriteLine($"teacher step {p.Step}/{steps}, loss {p.Loss:F3}");
        });
        trainer.SaveCheckpoint(checkpoint);
        return trainer;
    }

    private static ImageClassifier Classifier(ImageDataset train, string checkpoint)
    {
        if (!File.Exists(checkpoint))
        {
            using var trainer = new ClassifierTrainer(new ClassifierConfig { Steps = 800, CheckpointEvery = 0 });
            trainer.Train(train, checkpoint);
        }
        return ClassifierTrainer.LoadModel(checkpoint);
    }
}
