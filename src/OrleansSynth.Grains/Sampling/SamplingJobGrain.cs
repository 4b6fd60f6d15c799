using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Audit;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Datasets;
using OrleansSynth.Grains.FanOut;
using OrleansSynth.Grains.Placement;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;

namespace OrleansSynth.Grains.Sampling;

/// <summary>
/// Splits a sampling request into shards, runs them on shard grains spread over the silos, and retries a shard
/// whose silo was lost; the shards are idempotent, so a retry never duplicates samples. A diversity-aware job first
/// calibrates the re-identification model (as the audit does, cached by content) and hands it to its shards by
/// reference.
/// </summary>
// Placed like training: a diversity-aware job trains and calibrates the re-identification encoder on its silo.
[PreferGpuSilos]
public sealed partial class SamplingJobGrain(
    [PersistentState("sampling", GrainStorageNames.Default)] IPersistentState<SamplingJobState> state,
    ComputeWorker compute,
    IArtifactStore artifacts,
    DatasetCache datasets,
    IOptions<ComputeWorkerOptions> options,
    Telemetry.PipelineMetrics metrics,
    ILogger<SamplingJobGrain> logger
) : StageGrain<SamplingJobSpec>, ISamplingJobGrain
{
    private List<SamplingShardSpec> _shards = [];

    // Written by the compute slot that trains the twins' encoder, read by status calls.
    private volatile WorkProgress? _preparation;

    protected override IStageWork<SamplingJobSpec> StageState => state.State;

    protected override string StageName => "Sampling job";

    public async Task<SamplingJobStatus> Start(SamplingJobSpec spec)
    {
        await StartStageAsync(spec);
        return Snapshot();
    }

    protected override async Task ValidateAsync(SamplingJobSpec spec)
    {
        if (spec.Count < 1 || spec.ShardSize < 1)
            throw new ArgumentOutOfRangeException(nameof(spec), "Count and ShardSize must be positive.");
        if (spec.Twins is { } twins)
        {
            if (spec.ClassCounts is not null)
                throw new ArgumentException(
                    "Twins take their labels from their records; ClassCounts does not apply.",
                    nameof(spec)
                );
            var info = await GrainFactory.GetGrain<IDatasetGrain>(twins.Dataset).GetInfo()
                ?? throw new ArgumentException($"Dataset {twins.Dataset} is not registered.", nameof(spec));
            var records = twins.Sources?.SampleIds.Count ?? info.TrainCount;
            if (spec.Count > records)
                throw new ArgumentOutOfRangeException(
                    nameof(spec),
                    $"Cannot twin {spec.Count} records of {records}{(twins.Sources is null ? "" : " synthetic ones")}."
                );
        }
    }

    protected override Task PersistAsync() => WriteOneAtATimeAsync(state);

    public async Task<SamplingJobStatus> Retry()
    {
        await RetryStageAsync();
        return Snapshot();
    }

    public Task<SamplingJobStatus> GetStatus() => Task.FromResult(Snapshot());

    public async Task Cancel()
    {
        await CancelStageAsync();
        // Shards queued or sampling on other silos stop too; a finished shard ignores it.
        await Task.WhenAll(_shards.Select(s => ShardGrain(s).Cancel()));
    }

    private ISamplingShardGrain ShardGrain(SamplingShardSpec shard) =>
        GrainFactory.GetGrain<ISamplingShardGrain>($"{shard.JobId}/{shard.ShardIndex}");

    protected override async Task RunAsync()
    {
        var spec = state.State.Spec!;
        var jobId = this.GetPrimaryKeyString();
        try
        {
            if (spec.Twins is { } twins)
                state.State.Reidentification ??= await CalibratedReidentification(jobId, twins);
            var shards = _shards = Shards(jobId, spec, state.State.Reidentification);
            // Shards remember their results, so after a reactivation re-running all of them recomputes only the missing
            // ones.
            state.State.Done.Clear();
            metrics.Sampling(jobId, 0, shards.Count);
            var inFlight = await BoundedFanOut.InFlightLimitAsync(
                GrainFactory,
                compute.Slots,
                options.Value.PartsInFlightPerSlot
            );
            await BoundedFanOut.RunAsync(
                shards,
                inFlight,
                shard => ShardGrain(shard).Poll(shard),
                ShardDone,
                (shard, e) =>
                {
                    metrics.ShardRetried(shard.JobId);
                    LogUnreachable(shard.JobId, shard.ShardIndex, e.GetType().Name);
                },
                Cancelled
            );
            state.State.State = WorkState.Completed;
            LogCompleted(jobId, shards.Count);
        }
        catch (Exception e) when (TransientFailures.IsSiloLoss(e))
        {
            LogInterrupted(jobId, e.GetType().Name);
            return; // a stop, not a failure: the reminder or the next activation resumes the job
        }
        catch (Exception e)
        {
            if (e is PartFailedException)
                metrics.ShardFailed(jobId);
            state.State.State = WorkState.Failed;
            state.State.Error = e.Message;
            LogFailed(e, jobId);
        }
        await WriteOneAtATimeAsync(state);
        await StopResumingAsync();
        metrics.Ended(jobId);
    }

    private void ShardDone(SamplingShardSpec shard, SamplingShardResult result)
    {
        state.State.Done.Add(result);
        metrics.Sampling(shard.JobId, state.State.Done.Count, _shards.Count);
        metrics.ShardDone(shard.JobId, result.SampleIds.Count);
    }

    private static List<SamplingShardSpec> Shards(string jobId, SamplingJobSpec spec, ArtifactRef? reidentification) =>
        Enumerable
            .Range(0, (spec.Count + spec.ShardSize - 1) / spec.ShardSize)
            .Select(i => new SamplingShardSpec(
                jobId,
                i,
                i * spec.ShardSize,
                Math.Min(spec.ShardSize, spec.Count - i * spec.ShardSize),
                spec,
                reidentification
            ))
            .ToList();

    /// <summary>The audit's encoder and threshold for this dataset, stored as an artifact the shards load.</summary>
    private async Task<ArtifactRef> CalibratedReidentification(string jobId, TwinSamplingSpec twins)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "orleanssynth", "twins", $"{Guid.NewGuid():N}.model");
        Directory.CreateDirectory(Path.GetDirectoryName(scratch)!);
        try
        {
            await compute.RunAsync(
                $"calibrate re-identification for {jobId}",
                (device, token) =>
                {
                    var training = datasets.Get(twins.Dataset, DatasetSplit.Train);
                    var config = new ReidentificationEncoderConfig
                    {
                        ImageChannels = training.Channels,
                        ImageSize = training.Height,
                        Steps = twins.EncoderSteps,
                    };
                    using var reference = AuditPreparation.Prepare(
                        training,
                        datasets.Get(twins.Dataset, DatasetSplit.Test),
                        config,
                        new AuditSettings { Alpha = twins.Alpha },
                        Path.Combine(options.Value.CacheRoot, "audit"),
                        device,
                        progress: PreparationProgress.Reporter(jobId, metrics, shown => _preparation = shown),
                        cancellationToken: token
                    );
                    reference.Model.Save(scratch);
                    return true;
                },
                Cancelled
            );
            return await artifacts.PutFileAsync(scratch, "reidentification-model");
        }
        finally
        {
            File.Delete(scratch);
        }
    }

    private SamplingJobStatus Snapshot()
    {
        var spec = state.State.Spec;
        var total = spec is null ? 0 : (spec.Count + spec.ShardSize - 1) / spec.ShardSize;
        // Polls while running carry counts; the shards, with every sample id, only once the job is complete.
        var shards =
            state.State.State == WorkState.Completed ? state.State.Done.OrderBy(d => d.ShardIndex).ToList() : [];
        return new SamplingJobStatus(
            state.State.State,
            total,
            state.State.Done.Count,
            shards,
            state.State.Error,
            PreparationProgress.Shown(_preparation, state.State.State)
        );
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sampling job {Job} completed {Shards} shards")]
    private partial void LogCompleted(string job, int shards);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Sampling job {Job}: shard {Shard} could not be reached ({Error}); polling it again"
    )]
    private partial void LogUnreachable(string job, int shard, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sampling job {Job} interrupted ({Reason}); it resumes")]
    private partial void LogInterrupted(string job, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sampling job {Job} failed")]
    private partial void LogFailed(Exception exception, string job);
}

[GenerateSerializer]
public sealed class SamplingJobState : IStageWork<SamplingJobSpec>
{
    [Id(0)]
    public SamplingJobSpec? Spec { get; set; }

    [Id(1)]
    public WorkState State { get; set; }

    [Id(2)]
    public List<SamplingShardResult> Done { get; set; } = [];

    [Id(3)]
    public string? Error { get; set; }

    [Id(4)]
    public ArtifactRef? Reidentification { get; set; }
}
