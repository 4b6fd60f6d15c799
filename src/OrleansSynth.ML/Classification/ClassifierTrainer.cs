using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Classification;

/// <summary>
/// Trains the utility classifier with cross-entropy and Adam (optionally on a cosine learning rate), checkpointing and
/// resuming like the diffusion trainer (batches, augmentation noise and rate derived from seed and step), and evaluates
/// it on a test set.
/// </summary>
public sealed class ClassifierTrainer : IDisposable
{
    public const string CheckpointMagic = "ORLEANSSYNTH-CLASSIFIER-CHECKPOINT";
    private readonly Training.Adam _optimizer;
    private readonly Device _device;

    public sealed record Header(ClassifierConfig Config, int Step, double LastLoss);

    public ClassifierTrainer(ClassifierConfig config, Device? device = null)
    {
        Config = config;
        _device = device ?? CPU;
        manual_seed(config.Seed);
        Model = new ImageClassifier(config);
        Model.to(_device);
        _optimizer = new(Model.parameters(), config.LearningRate);
    }

    public ClassifierConfig Config { get; }
    public ImageClassifier Model { get; }
    public int Step { get; private set; }
    public double LastLoss { get; private set; } = double.NaN;

    public static ClassifierTrainer Resume(string checkpointPath, Device? device = null)
    {
        var header = ModelCheckpoint<Header>.ReadHeader(checkpointPath, CheckpointMagic);
        var trainer = new ClassifierTrainer(header.Config, device);
        ModelCheckpoint<Header>.Load(checkpointPath, CheckpointMagic, trainer.Model, trainer._optimizer);
        (trainer.Step, trainer.LastLoss) = (header.Step, header.LastLoss);
        return trainer;
    }

    /// <summary>A trained classifier for inference, in eval mode.</summary>
    public static ImageClassifier LoadModel(string checkpointPath, Device? device = null)
    {
        var header = ModelCheckpoint<Header>.ReadHeader(checkpointPath, CheckpointMagic);
        var model = new ImageClassifier(header.Config);
        ModelCheckpoint<Header>.Load(checkpointPath, CheckpointMagic, model, null);
        if (device is not null)
            model.to(device);
        model.eval();
        return model;
    }

    public void Train(
        ImageDataset data,
        string? checkpointPath = null,
        Action<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default,
        Action<int>? checkpointed = null
    )
    {
        if (data.Count == 0)
            throw new ArgumentException($"{data.Name}: no training images.");
        if (data.Channels != Config.ImageChannels || data.Height != Config.ImageSize || data.Width != Config.ImageSize)
            throw new ArgumentException(
                $"{data.Name}: images are {data.Channels}x{data.Height}x{data.Width}, the classifier expects "
                    + $"{Config.ImageChannels}x{Config.ImageSize}x{Config.ImageSize}."
            );
        if (data.Labels.Any(l => l >= Config.NumClasses))
            throw new ArgumentException($"{data.Name}: labels exceed the classifier's {Config.NumClasses} classes.");
        var schedule = new BatchSchedule(data.Count, Math.Min(Config.BatchSize, data.Count), Config.Seed);
        var started = DateTime.UtcNow;
        var startStep = Step;
        Model.train();
        void TrainOneStep()
        {
            using (var scope = NewDisposeScope())
            using (var generator = new Generator(SeedMixer.Mix(Config.Seed, Step), CPU))
            {
                if (Config.CosineDecay)
                    LearningRateSchedule.Apply(
                        _optimizer,
                        LearningRateSchedule.Cosine(Config.LearningRate, Step, Config.Steps)
                    );
                var (images, labels) = data.Batch(schedule.IndicesForStep(Step));
                // Mild shifts and noise: the same perturbations the audit tolerates, so synthetic and real agree on
                // features.
                var augmented = NearCopyPerturbations.Apply(images, PerturbationRanges.ClassifierTraining, generator);
                _optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(Model.forward(augmented.to(_device)), labels.to(_device));
                loss.backward();
                _optimizer.step();
                LastLoss = loss.item<float>();
            }
            Step++;
            if (Step % Config.ReportEvery == 0 || Step == Config.Steps)
                progress?.Invoke(
                    new TrainingProgress(
                        Step,
                        Config.Steps,
                        LastLoss,
                        (Step - startStep) * (double)Config.BatchSize / (DateTime.UtcNow - started).TotalSeconds
                    )
                );
        }
        CheckpointedLoop.Run(
            () => Step,
            Config.Steps,
            TrainOneStep,
            Config.CheckpointEvery,
            checkpointPath is null ? null : () => Checkpoint(checkpointPath, checkpointed),
            cancellationToken
        );
        Model.eval();
    }

    private void Checkpoint(string path, Action<int>? checkpointed)
    {
        ModelCheckpoint<Header>.Save(path, CheckpointMagic, new Header(Config, Step, LastLoss), Model, _optimizer);
        checkpointed?.Invoke(Step);
    }

    /// <summary>Accuracy and macro ROC AUC (one class against the rest, averaged over classes present).</summary>
    public static ClassifierEvaluation Evaluate(ImageClassifier model, ImageDataset test, int batchSize = 500)
    {
        using var noGrad = no_grad();
        model.eval();
        var device = model.parameters().First().device;
        var probabilities = new float[test.Count * model.Config.NumClasses];
        var all = Enumerable.Range(0, test.Count).ToArray();
        for (var start = 0; start < test.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var (images, _) = test.Batch(all[start..Math.Min(start + batchSize, test.Count)], device);
            var p = softmax(model.forward(images), 1).cpu().data<float>().ToArray();
            p.CopyTo(probabilities, start * model.Config.NumClasses);
        }
        var classes = model.Config.NumClasses;
        var correct = 0;
        for (var i = 0; i < test.Count; i++)
        {
            var row = probabilities.AsSpan(i * classes, classes);
            var best = 0;
            for (var c = 1; c < classes; c++)
                if (row[c] > row[best])
                    best = c;
            if (best == test.Labels[i])
                correct++;
        }
        var aucs = new List<double>();
        for (var c = 0; c < classes; c++)
        {
            var positive = new List<float>();
            var negative = new List<float>();
            for (var i = 0; i < test.Count; i++)
                (test.Labels[i] == c ? positive : negative).Add(probabilities[i * classes + c]);
            if (positive.Count > 0 && negative.Count > 0)
                aucs.Add(RocAuc.Compute(positive, negative));
        }
        return new ClassifierEvaluation(
            test.Count,
            (double)correct / test.Count,
            aucs.Count == 0 ? double.NaN : aucs.Average()
        );
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        Model.Dispose();
    }
}
