using System.Diagnostics;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Training;

/// <summary>
/// Trains a <see cref="UNet"/> with the epsilon objective (min-SNR weighted), Adam, warm-up and cosine decay, gradient
/// clipping and an EMA copy.
/// Every random draw of step s comes from a generator seeded by (seed, s), and the batch of step s from a
/// per-epoch permutation, so resuming from a checkpoint replays exactly the steps an uninterrupted run takes.
/// </summary>
public sealed class DiffusionTrainer : IDisposable
{
    private readonly Device _device;
    private readonly Adam _optimizer;
    private readonly List<LossPoint> _lossHistory = [];
    private readonly BFloat16WorkingCopy? _workingCopy;

    public DiffusionTrainer(DiffusionModelConfig config, Device? device = null)
    {
        config.Training.Validate();
        _device = device ?? CPU;
        config = config with { Training = config.Training.ForDevice(_device) };
        Config = config;
        Diffusion = new GaussianDiffusion(config.Diffusion);
        // Initial weights depend only on the run seed. (No dispose scope here: one would free module tensors.)
        manual_seed(config.Training.Seed);
        Model = new UNet(config.Model);
        Ema = new UNet(config.Model);
        Model.to(_device);
        Ema.to(_device);
        ExponentialMovingAverage.CopyWeights(Model, Ema);
        Ema.eval();
        _optimizer = new Adam(Model.parameters(), config.Training.LearningRate);
        if (config.Training.BFloat16 == true)
            _workingCopy = new BFloat16WorkingCopy(Model, _device);
    }

    public DiffusionModelConfig Config { get; }
    public GaussianDiffusion Diffusion { get; }
    public UNet Model { get; }
    public UNet Ema { get; }

    /// <summary>Steps completed so far.</summary>
    public int Step { get; private set; }
    public string DatasetName { get; private set; } = "";
    public IReadOnlyList<LossPoint> LossHistory => _lossHistory;

    /// <summary>Steps of this process whose gradients were not finite, so the weights were left as they were.</summary>
    public int SkippedSteps { get; private set; }

    /// <summary>Consecutive non-finite steps after which training stops with an error instead of skipping
    /// more.</summary>
    public const int MaxConsecutiveSkippedSteps = 20;

    /// <summary>
    /// Rebuilds a trainer exactly as it was when the checkpoint was written; <paramref name="targetSteps"/>
    /// optionally moves the finish line (with <see cref="TrainingConfig.CosineDecay"/> the remaining steps' learning
    /// rate follows the new finish line; batches and noise draws do not change).
    /// </summary>
    public static DiffusionTrainer Resume(string checkpointPath, Device? device = null, int? targetSteps = null)
    {
        var header = DiffusionCheckpoint.ReadHeader(checkpointPath);
        var config = targetSteps is { } steps
            ? header.Config with
            {
                Training = header.Config.Training with { Steps = steps },
            }
            : header.Config;
        var trainer = new DiffusionTrainer(config, device);
        try
        {
            DiffusionCheckpoint.Load(checkpointPath, trainer.Model, trainer.Ema, trainer._optimizer);
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
        trainer.Step = header.Step;
        trainer.DatasetName = header.DatasetName;
        trainer._lossHistory.AddRange(header.LossHistory);
        return trainer;
    }

    /// <summary>
    /// Trains until <see cref="TrainingConfig.Steps"/> (or <paramref name="stopAfterStep"/>), writing a checkpoint
    /// every <see cref="TrainingConfig.CheckpointEvery"/> steps and at the end. On cancellation the current
    /// state is checkpointed before <see cref="OperationCanceledException"/> propagates, so no step is lost.
    /// </summary>
    /// <param name="checkpointed">Called with the step after every checkpoint write, e.g. to publish it.</param>
    /// <param name="recordConditions">Per-record conditions [data.Count, ExtraConditionDim] for a pseudo-conditioned
    /// model; required exactly when the model has an extra condition.</param>
    public void Train(
        ImageDataset data,
        string? checkpointPath = null,
        Action<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default,
        int? stopAfterStep = null,
        Action<int>? checkpointed = null,
        Tensor? recordConditions = null
    )
    {
        CheckCompatible(data, recordConditions);
        DatasetName = data.Name;
        using var prompts = PromptsOf(data);
        var training = Config.Training;
        var lastStep = Math.Min(stopAfterStep ?? training.Steps, training.Steps);
        var schedule = new BatchSchedule(data.Count, training.BatchSize, training.Seed);
        Model.train();
        _workingCopy?.Model.train();

        var window = Stopwatch.StartNew();
        var (windowLoss, windowSteps, consecutiveSkips) = (0.0, 0, 0);
        void TrainOneStep()
        {
            if (TrainStep(data, schedule, recordConditions, prompts) is { } loss)
            {
                (windowLoss, windowSteps, consecutiveSkips) = (windowLoss + loss, windowSteps + 1, 0);
            }
            else if (++consecutiveSkips > MaxConsecutiveSkippedSteps)
            {
                throw new InvalidOperationException(
                    $"Diffusion training diverged: {consecutiveSkips} steps in a row up to step {Step + 1} had "
                        + "non-finite gradients. Lower the learning rate or check the data for NaN or infinite "
                        + "pixels."
                );
            }
            Step++;

            // Report on a fixed grid so an interrupted and resumed run records the same loss history.
            if (Step % training.ReportEvery == 0 || Step == training.Steps)
            {
                var point = new LossPoint(Step, windowLoss / windowSteps);
                _lossHistory.Add(point);
                progress?.Invoke(
                    new TrainingProgress(
                        Step,
                        training.Steps,
                        point.Loss,
                        windowSteps * training.BatchSize / window.Elapsed.TotalSeconds
                    )
                );
                (windowLoss, windowSteps) = (0.0, 0);
                window.Restart();
            }
        }
        CheckpointedLoop.Run(
            () => Step,
            lastStep,
            TrainOneStep,
            training.CheckpointEvery,
            checkpointPath is null ? null : () => Checkpoint(checkpointPath, checkpointed),
            cancellationToken
        );
    }

    private void Checkpoint(string path, Action<int>? checkpointed)
    {
        SaveCheckpoint(path);
        checkpointed?.Invoke(Step);
    }

    public void SaveCheckpoint(string path) =>
        DiffusionCheckpoint.Save(
            path,
            new DiffusionCheckpoint.Header(Config, Step, _lossHistory.ToList(), DatasetName),
            Model,
            Ema,
            _optimizer
        );

    /// <summary>One optimiser step; null when the gradients were not finite and the step was skipped (weights, moments
    /// and EMA untouched).</summary>
    private double? TrainStep(ImageDataset data, BatchSchedule schedule, Tensor? recordConditions, Tensor? prompts)
    {
        var training = Config.Training;
        using var scope = NewDisposeScope();
        using var generator = new Generator(SeedMixer.Mix(training.Seed, Step), CPU);
        var indices = schedule.IndicesForStep(Step);
        var (images, labels) = data.Batch(indices, _device);
        var rows = tensor(indices.Select(i => (long)i).ToArray());
        var conditions = recordConditions?.index_select(0, rows).to(_device);
        var batchPrompts = prompts?.index_select(0, rows).to(_device);

        LearningRateSchedule.Apply(_optimizer, LearningRateAt(Step));

        _optimizer.zero_grad();
        _workingCopy?.Refresh();
        var loss = Diffusion.TrainingLoss(
            _workingCopy?.Model ?? Model,
            images,
            labels,
            training.LabelDropout,
            generator,
            conditions,
            training.MinSnrGamma,
            batchPrompts
        );
        loss.backward();
        _workingCopy?.PassGradients();
        // One NaN step would leave the weights and Adam's moments NaN for good: skip it, as mixed-precision scalers do.
        var gradientNorm = nn.utils.clip_grad_norm_(Model.parameters(), 1.0);
        if (!double.IsFinite(gradientNorm))
        {
            SkippedSteps++;
            return null;
        }
        _optimizer.step();

        // Early on the EMA follows the weights closely; its horizon grows to 1 / (1 - decay).
        var decay = Math.Min(training.EmaDecay, (1.0 + Step) / (10.0 + Step));
        ExponentialMovingAverage.Update(Model, Ema, decay);
        return loss.item<float>();
    }

    /// <summary>The rate at a step: <see cref="LearningRateSchedule.WarmupThen"/> with this run's settings.</summary>
    public double LearningRateAt(int step) =>
        LearningRateSchedule.WarmupThen(
            Config.Training.LearningRate,
            step,
            Config.Training.Steps,
            Config.Training.WarmupSteps,
            Config.Training.CosineDecay
        );

    /// <summary>Every record's prompt row [N, MaxTokens] for a text model (the null prompt where a record has no
    /// report); null for a model that reads no text.</summary>
    private Tensor? PromptsOf(ImageDataset data)
    {
        if (Config.Model.Text is not { } text)
            return null;
        var reports = data.Reports
            ?? throw new ArgumentException(
                $"{data.Name}: the model is conditioned on reports, but the dataset has none."
            );
        try
        {
            return tensor(new ReportTokenizer(text).Rows(reports), dtype: int64).view(data.Count, text.MaxTokens);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{data.Name}: {e.Message}", e);
        }
    }

    private void CheckCompatible(ImageDataset data, Tensor? recordConditions)
    {
        var model = Config.Model;
        if (data.Count == 0)
            throw new ArgumentException($"{data.Name}: the dataset is empty.");
        if ((model.ExtraConditionDim > 0) != (recordConditions is not null))
            throw new ArgumentException(
                model.ExtraConditionDim > 0
                    ? $"The model is conditioned on {model.ExtraConditionDim}-d record features; pass them."
                    : "The model has no record condition, but record conditions were passed."
            );
        if (
            recordConditions is not null
            && (recordConditions.shape[0] != data.Count || recordConditions.shape[1] != model.ExtraConditionDim)
        )
            throw new ArgumentException(
                $"Record conditions are [{string.Join(", ", recordConditions.shape)}]; expected [{data.Count}, "
                    + $"{model.ExtraConditionDim}]."
            );
        if (data.Channels != model.ImageChannels || data.Height != model.ImageSize || data.Width != model.ImageSize)
            throw new ArgumentException(
                $"{data.Name}: images are {data.Channels}x{data.Height}x{data.Width} but the model expects "
                    + $"{model.ImageChannels}x{model.ImageSize}x{model.ImageSize}."
            );
        if (data.NumClasses > model.NumClasses)
            throw new ArgumentException(
                $"{data.Name}: {data.NumClasses} classes but the model was built for {model.NumClasses}."
            );
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _workingCopy?.Dispose();
        Model.Dispose();
        Ema.Dispose();
    }
}
