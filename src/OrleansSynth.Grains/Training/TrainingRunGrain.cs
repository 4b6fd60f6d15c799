using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Datasets;
using OrleansSynth.Grains.Placement;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Diversity;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Text;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Grains.Training;

/// <summary>
/// A training run (diffusion model, re-identification encoder or classifier). The step loop runs on the silo's
/// compute worker; the grain publishes progress, uploads each checkpoint to the artifact store and persists its
/// reference, so a run whose silo is lost resumes on the next activation from its last checkpoint, not step zero.
/// </summary>
[PreferGpuSilos]
public sealed partial class TrainingRunGrain(
    [PersistentState("training", GrainStorageNames.Default)] IPersistentState<TrainingRunState> state,
    ComputeWorker compute,
    IArtifactStore artifacts,
    DatasetCache datasets,
    ILocalSiloDetails silo,
    Telemetry.PipelineMetrics metrics,
    ILogger<TrainingRunGrain> logger
) : StageGrain<TrainingRunSpec>, ITrainingRunGrain
{
    private readonly CancellationTokenSource _deactivating = new();

    // Written by the compute thread, read by the grain: always replaced whole.
    private volatile LiveProgress _live = new(0, null, null, 0, null);
    private readonly List<Channel<TrainingStatus>> _followers = [];
    private WorkState _persistedState;

    // Whether this activation still has to tell the metrics its run ended.
    private bool _metricsOpen = true;

    private sealed record LiveProgress(
        int Step,
        double? Loss,
        ArtifactRef? Checkpoint,
        int CheckpointStep,
        double? ImagesPerSecond
    );

    protected override IStageWork<TrainingRunSpec> StageState => state.State;

    protected override string StageName => "Run";

    protected override void ResumeWork()
    {
        // The silo running this before was lost or stopped: carry on from the last checkpoint.
        state.State.Resumes++;
        LogResuming(this.GetPrimaryKeyString(), state.State.CheckpointStep);
        base.ResumeWork();
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _persistedState = state.State.State;
        _live = new LiveProgress(
            state.State.CheckpointStep,
            state.State.LastLoss,
            state.State.Checkpoint,
            state.State.CheckpointStep,
            null
        );
        this.RegisterGrainTimer(PublishProgress, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500));
        return base.OnActivateAsync(cancellationToken);
    }

    public async Task<TrainingStatus> Start(TrainingRunSpec spec)
    {
        await StartStageAsync(spec);
        return Snapshot();
    }

    protected override async Task ValidateAsync(TrainingRunSpec spec)
    {
        if (spec.Steps < 1)
            throw new ArgumentOutOfRangeException(nameof(spec), "Steps must be positive.");
        if (spec.Synthetic is { } synthetic)
        {
            if (spec.Kind == TrainingKind.ReidentificationEncoder)
                throw new ArgumentException("The re-identification encoder trains on real records only.");
            if (synthetic.SampleIds.Count == 0)
                throw new ArgumentException("The synthetic training set is empty.");
        }
        if (spec.KnownTokensFrom is not null && (spec.Kind != TrainingKind.Diffusion || spec.Synthetic is null))
            throw new ArgumentException(
                "Only a diffusion run on synthetic samples takes its known tokens from a model."
            );
        // A classifier is always evaluated on the real test split, so it needs the dataset even when trained on
        // synthetic samples.
        if (
            (spec.Synthetic is null || spec.Kind == TrainingKind.Classifier)
            && await GrainFactory.GetGrain<IDatasetGrain>(spec.Dataset).GetInfo() is null
        )
            throw new InvalidOperationException($"Dataset '{spec.Dataset}' is not registered.");
    }

    /// <summary>Writes the state and notes what was written (progress publishing reads the persisted state).</summary>
    protected override async Task PersistAsync()
    {
        await WriteOneAtATimeAsync(state);
        _persistedState = state.State.State;
    }

    public async Task<TrainingStatus> Retry()
    {
        await RetryStageAsync();
        return Snapshot();
    }

    public Task<TrainingStatus> GetStatus() => Task.FromResult(Snapshot());

    public Task Cancel() => CancelStageAsync();

    public async IAsyncEnumerable<TrainingStatus> Follow(
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default
    )
    {
        var channel = Channel.CreateBounded<TrainingStatus>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest }
        );
        _followers.Add(channel);
        try
        {
            var current = Snapshot();
            yield return current;
            while (current.State is WorkState.Running or WorkState.NotStarted)
            {
                current = await channel.Reader.ReadAsync(cancellationToken);
                yield return current;
            }
        }
        finally
        {
            _followers.Remove(channel);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await _deactivating.CancelAsync();
        if (BackgroundWork is { } work)
        {
            try
            {
                await work.WaitAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException) { }
        }
        await PublishProgress(cancellationToken);
    }

    protected override async Task RunAsync()
    {
        var spec = state.State.Spec!;
        var key = this.GetPrimaryKeyString();
        var scratch = Path.Combine(Path.GetTempPath(), "orleanssynth", "training", Uri.EscapeDataString(key));
        Directory.CreateDirectory(scratch);
        var localCheckpoint = Path.Combine(scratch, "checkpoint.ckpt");
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(_deactivating.Token, Cancelled);
        try
        {
            if (state.State.Checkpoint is { } saved)
                File.Copy(await artifacts.GetLocalPathAsync(saved), localCheckpoint, overwrite: true);
            else if (File.Exists(localCheckpoint))
                File.Delete(localCheckpoint);

            // A student's loader reads synthetic bundles from the artifact store, and of its teacher at most the
            // known tokens.
            var bundles = await artifacts.GetLocalPathsAsync(spec.Synthetic?.Bundles ?? []);
            state.State.DataSources = spec.Synthetic is { } synthetic
                ? synthetic.Bundles.Select(b => $"artifact:{b.Sha256}").ToList()
                : [$"dataset:{spec.Dataset}"];
            if (spec.Kind == TrainingKind.Classifier)
                state.State.DataSources.Add($"dataset:{spec.Dataset}/test (evaluation only)");
            var featureExtractor = spec.FeatureExtractor is { } extractor
                ? await artifacts.GetLocalPathAsync(extractor)
                : null;
            if (spec.FeatureExtractor is { } used)
                state.State.DataSources.Add($"artifact:{used.Sha256} (feature extractor)");
            string? knownTokensFrom = null;
            if (spec.KnownTokensFrom is { } teacher)
            {
                knownTokensFrom = await artifacts.GetLocalPathAsync(teacher);
                state.State.DataSources.Add($"artifact:{teacher.Sha256} (known tokens only)");
            }
            var metrics = await compute.RunAsync(
                $"train {key}",
                (device, token) =>
                {
                    var data = spec.Synthetic is { } set
                        ? SampleBundle.ReadKept(key, bundles, set.SampleIds)
                        : datasets.Get(spec.Dataset, DatasetSplit.Train);
                    if (spec.Limit > 0)
                        data = data.Subset(Enumerable.Range(0, Math.Min(spec.Limit, data.Count)).ToArray());
                    void Progress(TrainingProgress p) =>
                        _live = _live with { Step = p.Step, Loss = p.Loss, ImagesPerSecond = p.ImagesPerSecond };
                    void Checkpointed(int step)
                    {
                        // Upload on the compute thread; the grain only records the reference.
                        var reference = artifacts
                            .PutFileAsync(localCheckpoint, $"{spec.Kind}-checkpoint", CancellationToken.None)
                            .GetAwaiter()
                            .GetResult();
                        _live = _live with { Step = step, Checkpoint = reference, CheckpointStep = step };
                    }
                    return spec.Kind switch
                    {
                        TrainingKind.Diffusion => TrainDiffusion(
                            spec,
                            data,
                            featureExtractor,
                            knownTokensFrom,
                            localCheckpoint,
                            Progress,
                            Checkpointed,
                            device,
                            token
                        ),
                        TrainingKind.ReidentificationEncoder => TrainEncoder(
                            spec,
                            data,
                            datasets.Get(spec.Dataset, DatasetSplit.Test),
                            localCheckpoint,
                            Progress,
                            Checkpointed,
                            device,
                            token
                        ),
                        TrainingKind.Classifier => TrainClassifier(
                            spec,
                            data,
                            datasets.Get(spec.Dataset, DatasetSplit.Test),
                            localCheckpoint,
                            Progress,
                            Checkpointed,
                            device,
                            token
                        ),
                        _ => throw new ArgumentOutOfRangeException(nameof(spec), $"Unknown training kind {spec.Kind}."),
                    };
                },
                stopping.Token
            );
            state.State.Metrics = metrics;
            state.State.State = WorkState.Completed;
        }
        catch (Exception e) when (TransientFailures.IsSiloLoss(e))
        {
            // deactivating or the silo stopping: a stop, not a failure; the reminder or the next activation resumes
            return;
        }
        catch (Exception e)
        {
            state.State.State = WorkState.Failed;
            state.State.Error = e.Message;
            LogFailed(e, key);
        }
        await PublishProgress(CancellationToken.None);
        await StopResumingAsync();
    }

    /// <summary>Persists a newer checkpoint reference or a final state, and tells followers; runs on the grain's
    /// scheduler.</summary>
    private async Task PublishProgress(CancellationToken cancellationToken)
    {
        var live = _live;
        state.State.LastLoss = live.Loss;
        var newCheckpoint = live.Checkpoint is not null && live.CheckpointStep > state.State.CheckpointStep;
        if (newCheckpoint || state.State.State != _persistedState)
        {
            if (newCheckpoint)
                (state.State.Checkpoint, state.State.CheckpointStep) = (live.Checkpoint, live.CheckpointStep);
            await WriteOneAtATimeAsync(state, cancellationToken);
            _persistedState = state.State.State;
        }
        var snapshot = Snapshot();
        foreach (var follower in _followers)
            follower.Writer.TryWrite(snapshot);
        if (snapshot.State == WorkState.Running)
            metrics.Training(
                this.GetPrimaryKeyString(),
                snapshot.Step,
                snapshot.TotalSteps,
                snapshot.LastLoss,
                live.ImagesPerSecond
            );
        else if (snapshot.State != WorkState.NotStarted && _metricsOpen)
        {
            metrics.Training(this.GetPrimaryKeyString(), snapshot.Step, snapshot.TotalSteps, snapshot.LastLoss, null);
            metrics.Ended(this.GetPrimaryKeyString());
            _metricsOpen = false;
        }
    }

    private TrainingStatus Snapshot()
    {
        var live = _live;
        var s = state.State;
        var step = s.State == WorkState.Completed ? s.Spec!.Steps : Math.Max(live.Step, s.CheckpointStep);
        return new TrainingStatus(
            s.State,
            step,
            s.Spec?.Steps ?? 0,
            live.Loss ?? s.LastLoss,
            s.Checkpoint,
            s.CheckpointStep,
            s.Resumes,
            silo.SiloAddress.ToString(),
            s.Error,
            s.Metrics,
            s.DataSources
        );
    }

    private static Dictionary<string, double> TrainDiffusion(
        TrainingRunSpec spec,
        ImageDataset data,
        string? featureExtractor,
        string? knownTokensFrom,
        string checkpoint,
        Action<TrainingProgress> progress,
        Action<int> checkpointed,
        TorchSharp.torch.Device device,
        CancellationToken token
    )
    {
        // Pseudo-conditioning: every record's features from the frozen classifier, computed once up front.
        using var conditions = featureExtractor is null ? null : ConditionsFor(featureExtractor, data, device);
        // A resumed run takes its model's config from its checkpoint; only a new one is configured.
        using var trainer = File.Exists(checkpoint)
            ? DiffusionTrainer.Resume(checkpoint, device)
            : new DiffusionTrainer(NewConfig(), device);
        trainer.Train(data, checkpoint, progress, token, checkpointed: checkpointed, recordConditions: conditions);
        return new()
        {
            ["finalLoss"] = trainer.LossHistory.Count > 0 ? trainer.LossHistory[^1].Loss : double.NaN,
            ["skippedSteps"] = trainer.SkippedSteps,
        };

        DiffusionModelConfig NewConfig()
        {
            var config = ConfigFor(spec, data, KnownTokens(spec, data, knownTokensFrom));
            return conditions is null
                ? config
                : config with
                {
                    Model = config.Model with { ExtraConditionDim = (int)conditions.shape[1] },
                };
        }
    }

    /// <summary>The features run on the slot's device; the conditions come back on the CPU, indexed per
    /// batch.</summary>
    private static TorchSharp.torch.Tensor ConditionsFor(
        string featureExtractor,
        ImageDataset data,
        TorchSharp.torch.Device device
    )
    {
        using var classifier = ClassifierTrainer.LoadModel(featureExtractor, device);
        return RecordFeatures.Of(classifier, data);
    }

    private static Dictionary<string, double> TrainEncoder(
        TrainingRunSpec spec,
        ImageDataset data,
        ImageDataset heldOut,
        string checkpoint,
        Action<TrainingProgress> progress,
        Action<int> checkpointed,
        TorchSharp.torch.Device device,
        CancellationToken token
    )
    {
        var config = new ReidentificationEncoderConfig
        {
            ImageChannels = data.Channels,
            ImageSize = data.Height,
            Steps = spec.Steps,
            BatchSize = spec.BatchSize,
            LearningRate = spec.LearningRate,
            Seed = spec.Seed,
        };
        using var model = ReidentificationTrainer.Train(
            data,
            config,
            device,
            progress: progress,
            cancellationToken: token,
            checkpointPath: checkpoint,
            checkpointed: checkpointed
        );
        return new() { ["verificationAuc"] = ReidentificationTrainer.MeasureVerification(model, heldOut) };
    }

    private static Dictionary<string, double> TrainClassifier(
        TrainingRunSpec spec,
        ImageDataset data,
        ImageDataset test,
        string checkpoint,
        Action<TrainingProgress> progress,
        Action<int> checkpointed,
        TorchSharp.torch.Device device,
        CancellationToken token
    )
    {
        using var trainer = File.Exists(checkpoint)
            ? ClassifierTrainer.Resume(checkpoint, device)
            : new ClassifierTrainer(
                new ClassifierConfig
                {
                    ImageChannels = data.Channels,
                    ImageSize = data.Height,
                    NumClasses = data.NumClasses,
                    Steps = spec.Steps,
                    BatchSize = spec.BatchSize,
                    LearningRate = spec.LearningRate,
                    CosineDecay = true,
                    Seed = spec.Seed,
                    CheckpointEvery = spec.CheckpointEvery,
                },
                device
            );
        trainer.Train(data, checkpoint, progress, token, checkpointed);
        var evaluation = ClassifierTrainer.Evaluate(trainer.Model, test);
        return new() { ["accuracy"] = evaluation.Accuracy, ["macroAuc"] = evaluation.MacroAuc };
    }

    /// <summary>
    /// The tokens a model of these data may know: a student's are its teacher's (never counted over its prompts, which
    /// name no patient); real data's are counted by patient (<see cref="ReportVocabulary"/>); null without reports.
    /// </summary>
    private static int[]? KnownTokens(TrainingRunSpec spec, ImageDataset data, string? knownTokensFrom)
    {
        if (!data.HasReports)
            return null;
        if (spec.Synthetic is null)
            return ReportVocabulary.KnownTokens(data.Reports!, data.PatientIds);
        if (knownTokensFrom is null)
            throw new ArgumentException(
                "A model trained on prompted synthetic samples takes its known tokens from the model that drew them "
                    + "(KnownTokensFrom); none was given."
            );
        return DiffusionCheckpoint.ReadHeader(knownTokensFrom).Config.Model.Text?.KnownTokens
            ?? throw new ArgumentException("The model named for the known tokens lists none.");
    }

    /// <param name="knownTokens">From <see cref="KnownTokens"/>: set exactly when the data have reports.</param>
    private static DiffusionModelConfig ConfigFor(TrainingRunSpec spec, ImageDataset data, int[]? knownTokens) =>
        new()
        {
            Model = new UNetConfig
            {
                ImageChannels = data.Channels,
                ImageSize = data.Height,
                NumClasses = data.NumClasses,
                BaseChannels = spec.BaseChannels,
                GroupNormGroups = Math.Min(8, spec.BaseChannels / 2),
                // Data with reports (a dataset's, or the prompts kept samples were drawn from) trains a model that
                // reads them.
                Text = knownTokens is null ? null : new TextEncoderConfig { KnownTokens = knownTokens },
            },
            Diffusion = new DiffusionConfig { Timesteps = spec.Timesteps },
            Training = new TrainingConfig
            {
                Steps = spec.Steps,
                BatchSize = spec.BatchSize,
                LearningRate = spec.LearningRate,
                Seed = spec.Seed,
                CheckpointEvery = spec.CheckpointEvery,
                ReportEvery = Math.Clamp(spec.Steps / 50, 1, 25),
            },
        };

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Training run {Run} resumes from its checkpoint at step {Step}"
    )]
    private partial void LogResuming(string run, int step);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training run {Run} failed")]
    private partial void LogFailed(Exception exception, string run);
}
