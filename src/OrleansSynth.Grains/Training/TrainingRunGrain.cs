using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Datasets;
using OrleansSynth.Grains.Placement;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Grains.Training;

/// <summary>
/// A diffusion training run. The step loop runs on the silo's compute worker; the grain publishes progress,
/// uploads each checkpoint to the artifact store and persists its reference, so a run whose silo is lost
/// resumes on the next activation from its last checkpoint instead of step zero.
/// </summary>
[PreferGpuSilos]
public sealed partial class TrainingRunGrain(
    [PersistentState("training", GrainStorageNames.Default)] IPersistentState<TrainingRunState> state,
    ComputeWorker compute, IArtifactStore artifacts, DatasetCache datasets, ILocalSiloDetails silo,
    ILogger<TrainingRunGrain> logger) : Grain, ITrainingRunGrain
{
    private readonly CancellationTokenSource _deactivating = new();
    // Written by the compute thread, read by the grain: always replaced whole.
    private volatile LiveProgress _live = new(0, null, null, 0);
    private readonly List<Channel<TrainingStatus>> _followers = [];
    private Task? _work;

    private sealed record LiveProgress(int Step, double? Loss, ArtifactRef? Checkpoint, int CheckpointStep);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _live = new LiveProgress(state.State.CheckpointStep, state.State.LastLoss, state.State.Checkpoint, state.State.CheckpointStep);
        this.RegisterGrainTimer(PublishProgress, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500));
        if (state.State.State == WorkState.Running)
        {
            // The silo running this before was lost or stopped: carry on from the last checkpoint.
            state.State.Resumes++;
            LogResuming(this.GetPrimaryKeyString(), state.State.CheckpointStep);
            _work = RunAsync();
        }
        return Task.CompletedTask;
    }

    public async Task<TrainingStatus> Start(TrainingRunSpec spec)
    {
        if (state.State.Spec is { } existing)
        {
            if (existing != spec) throw new InvalidOperationException($"Run {this.GetPrimaryKeyString()} was already started with a different spec.");
            return Snapshot();
        }
        if (spec.Steps < 1) throw new ArgumentOutOfRangeException(nameof(spec), "Steps must be positive.");
        if (await GrainFactory.GetGrain<IDatasetGrain>(spec.Dataset).GetInfo() is null)
            throw new InvalidOperationException($"Dataset '{spec.Dataset}' is not registered.");
        state.State.Spec = spec;
        state.State.State = WorkState.Running;
        await state.WriteStateAsync();
        _work = RunAsync();
        return Snapshot();
    }

    public Task<TrainingStatus> GetStatus() => Task.FromResult(Snapshot());

    public async IAsyncEnumerable<TrainingStatus> Follow([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<TrainingStatus>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
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
        if (_work is not null)
        {
            try { await _work.WaitAsync(cancellationToken); } catch (Exception e) when (e is OperationCanceledException or TimeoutException) { }
        }
        await PublishProgress(cancellationToken);
    }

    private async Task RunAsync()
    {
        var spec = state.State.Spec!;
        var key = this.GetPrimaryKeyString();
        var scratch = Path.Combine(Path.GetTempPath(), "orleanssynth", "training", Uri.EscapeDataString(key));
        Directory.CreateDirectory(scratch);
        var localCheckpoint = Path.Combine(scratch, "checkpoint.ckpt");
        try
        {
            if (state.State.Checkpoint is { } saved)
                File.Copy(await artifacts.GetLocalPathAsync(saved), localCheckpoint, overwrite: true);
            else if (File.Exists(localCheckpoint))
                File.Delete(localCheckpoint);

            await compute.RunAsync($"train {key}", token =>
            {
                var data = datasets.Get(spec.Dataset, DatasetSplit.Train);
                if (spec.Limit > 0) data = data.Subset(Enumerable.Range(0, Math.Min(spec.Limit, data.Count)).ToArray());
                using var trainer = File.Exists(localCheckpoint)
                    ? DiffusionTrainer.Resume(localCheckpoint)
                    : new DiffusionTrainer(ConfigFor(spec, data));
                trainer.Train(data, localCheckpoint,
                    progress: p => _live = _live with { Step = p.Step, Loss = p.Loss },
                    cancellationToken: token,
                    checkpointed: step =>
                    {
                        // Upload on the compute thread; the grain only records the reference.
                        var reference = artifacts.PutFileAsync(localCheckpoint, "diffusion-checkpoint", CancellationToken.None).GetAwaiter().GetResult();
                        _live = _live with { Step = step, Checkpoint = reference, CheckpointStep = step };
                    });
                return trainer.Step;
            }, _deactivating.Token);
            state.State.State = WorkState.Completed;
        }
        catch (OperationCanceledException)
        {
            return; // deactivating: the next activation resumes
        }
        catch (Exception e)
        {
            state.State.State = WorkState.Failed;
            state.State.Error = e.Message;
            LogFailed(e, key);
        }
        await PublishProgress(CancellationToken.None);
    }

    /// <summary>Persists a newer checkpoint reference and tells followers; runs on the grain's scheduler.</summary>
    private async Task PublishProgress(CancellationToken cancellationToken)
    {
        var live = _live;
        state.State.LastLoss = live.Loss;
        if (live.Checkpoint is not null && live.CheckpointStep > state.State.CheckpointStep || state.State.State != WorkState.Running)
        {
            state.State.Checkpoint = live.Checkpoint ?? state.State.Checkpoint;
            state.State.CheckpointStep = Math.Max(live.CheckpointStep, state.State.CheckpointStep);
            await state.WriteStateAsync(cancellationToken);
        }
        var snapshot = Snapshot();
        foreach (var follower in _followers) follower.Writer.TryWrite(snapshot);
    }

    private TrainingStatus Snapshot()
    {
        var live = _live;
        var s = state.State;
        var step = s.State == WorkState.Completed ? s.Spec!.Steps : Math.Max(live.Step, s.CheckpointStep);
        return new TrainingStatus(s.State, step, s.Spec?.Steps ?? 0, live.Loss ?? s.LastLoss, s.Checkpoint, s.CheckpointStep,
            s.Resumes, silo.SiloAddress.ToString(), s.Error);
    }

    private static DiffusionModelConfig ConfigFor(TrainingRunSpec spec, ImageDataset data) => new()
    {
        Model = new UNetConfig
        {
            ImageChannels = data.Channels, ImageSize = data.Height, NumClasses = data.NumClasses, BaseChannels = spec.BaseChannels,
            GroupNormGroups = Math.Min(8, spec.BaseChannels / 2),
        },
        Diffusion = new DiffusionConfig { Timesteps = spec.Timesteps },
        Training = new TrainingConfig
        {
            Steps = spec.Steps, BatchSize = spec.BatchSize, LearningRate = spec.LearningRate, Seed = spec.Seed,
            CheckpointEvery = spec.CheckpointEvery, ReportEvery = Math.Clamp(spec.Steps / 50, 1, 25),
        },
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Training run {Run} resumes from its checkpoint at step {Step}")]
    private partial void LogResuming(string run, int step);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training run {Run} failed")]
    private partial void LogFailed(Exception exception, string run);
}
