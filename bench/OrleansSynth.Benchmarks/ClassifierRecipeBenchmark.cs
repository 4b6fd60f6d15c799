using System.Diagnostics;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// Classifier recipes on a released synthetic set: the same architecture trained with different steps, augmentation,
/// label smoothing and early stopping, each evaluated on the real test split.
/// </summary>
public static class ClassifierRecipeBenchmark
{
    public sealed record Recipe(
        string Name,
        int Steps,
        PerturbationRanges Augmentation,
        bool Flip,
        double LabelSmoothing,
        double ValidationFraction,
        double WeightDecay = 0,
        bool Cosine = false
    );

    public static int Run(string manifest, string dataset, string[] names)
    {
        // "real:N" trains on N random real training records instead: what the synthetic set's size alone would give.
        var synthetic = manifest.StartsWith("real:", StringComparison.Ordinal)
            ? RealSubset(dataset, int.Parse(manifest["real:".Length..]))
            : ImageFolderDataset.Load(manifest, "synthetic");
        var test = DatasetCatalog.Load(dataset, DatasetSplit.Test);
        Console.WriteLine($"{synthetic.Count} synthetic images, {test.Count} test images");
        var mild = PerturbationRanges.ClassifierTraining;
        var strong = new PerturbationRanges
        {
            MaxShift = 2,
            MaxRotationDegrees = 8,
            MaxScale = 0.08,
            MaxBlur = 0.5,
            MaxContrast = 0.1,
            MaxBrightness = 0.1,
            MaxNoise = 0.05,
        };
        var recipes = new Recipe[]
        {
            new("baseline-800", 800, mild, false, 0, 0),
            new("steps-400", 400, mild, false, 0, 0),
            new("steps-1600", 1600, mild, false, 0, 0),
            new("strong-800", 800, strong, false, 0, 0),
            new("strong-flip-800", 800, strong, true, 0, 0),
            new("strong-flip-1600", 1600, strong, true, 0, 0),
            new("smooth-800", 800, mild, false, 0.1, 0),
            new("flip-800", 800, mild, true, 0, 0),
            new("early-1600", 1600, mild, false, 0, 0.1),
            new("strong-flip-smooth-1600", 1600, strong, true, 0.1, 0),
            new("wd-800", 800, mild, false, 0, 0, 5e-4),
            new("cosine-800", 800, mild, false, 0, 0, Cosine: true),
            new("cosine-1600", 1600, mild, false, 0, 0, Cosine: true),
            new("cosine-smooth-800", 800, mild, false, 0.1, 0, Cosine: true),
            new("cosine-flip-800", 800, mild, true, 0, 0, Cosine: true),
            new("cosine-early-1600", 1600, mild, false, 0, 0.1, Cosine: true),
        };
        foreach (var recipe in recipes.Where(r => names.Length == 0 || names.Contains(r.Name)))
        {
            var clock = Stopwatch.StartNew();
            var (accuracy, auc, note) = Train(recipe, synthetic, test);
            Console.WriteLine(
                $"{recipe.Name, -26} accuracy {accuracy:P2} macro AUC {auc:F4} {note} "
                    + $"({clock.Elapsed.TotalSeconds:F0} s)"
            );
        }
        return 0;
    }

    private static ImageDataset RealSubset(string dataset, int count)
    {
        var train = DatasetCatalog.Load(dataset, DatasetSplit.Train);
        var order = Enumerable.Range(0, train.Count).ToArray();
        new Random(11).Shuffle(order);
        return train.Subset(order[..Math.Min(count, train.Count)], $"real-{count}");
    }

    private static (double Accuracy, double Auc, string Note) Train(Recipe recipe, ImageDataset all, ImageDataset test)
    {
        var config = new ClassifierConfig { Steps = recipe.Steps };
        var data = all;
        ImageDataset? validation = null;
        if (recipe.ValidationFraction > 0)
        {
            var order = Enumerable.Range(0, all.Count).ToArray();
            new Random(7).Shuffle(order);
            var cut = (int)(all.Count * recipe.ValidationFraction);
            validation = all.Subset(order[..cut], "validation");
            data = all.Subset(order[cut..], "train");
        }
        manual_seed(config.Seed);
        using var model = new ImageClassifier(config);
#pragma warning disable OS0001 // A recipe experiment with weight decay, which the production Adam does not have.
        using var optimizer = optim.AdamW(
            model.parameters(),
            lr: config.LearningRate,
            weight_decay: recipe.WeightDecay
        );
#pragma warning restore OS0001
        var schedule = new BatchSchedule(data.Count, config.BatchSize, config.Seed);
        var best = (Accuracy: -1.0, Step: 0);
        ImageClassifier? bestModel = null;
        for (var step = 0; step < config.Steps; step++)
        {
            model.train();
            if (recipe.Cosine)
                LearningRateSchedule.Apply(
                    optimizer,
                    LearningRateSchedule.Cosine(config.LearningRate, step, config.Steps)
                );
            using (var scope = NewDisposeScope())
            using (var generator = new Generator(SeedMixer.Mix(config.Seed, step), CPU))
            {
                var (images, labels) = data.Batch(schedule.IndicesForStep(step));
                var x = NearCopyPerturbations.Apply(images, recipe.Augmentation, generator);
                if (recipe.Flip)
                {
                    using Scalar half = 0.5;
                    var flip = rand([x.shape[0]], generator: generator).lt(half).view(-1, 1, 1, 1);
                    x = where(flip, x.flip(3), x);
                }
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(
                    model.forward(x),
                    labels,
                    label_smoothing: recipe.LabelSmoothing
                );
                loss.backward();
                optimizer.step();
            }
            if (validation is not null && (step + 1) % 100 == 0)
            {
                var v = ClassifierTrainer.Evaluate(model, validation).Accuracy;
                if (v > best.Accuracy)
                {
                    best = (v, step + 1);
                    bestModel?.Dispose();
                    bestModel = new ImageClassifier(config);
                    bestModel.load_state_dict(model.state_dict());
                }
            }
        }
        var final = ClassifierTrainer.Evaluate(bestModel ?? model, test);
        var note = bestModel is null
            ? ""
            : $"(best validation {best.Accuracy:P1} at step {best.Step}; last step: "
                + $"{ClassifierTrainer.Evaluate(model, test).Accuracy:P2})";
        bestModel?.Dispose();
        return (final.Accuracy, final.MacroAuc, note);
    }
}
