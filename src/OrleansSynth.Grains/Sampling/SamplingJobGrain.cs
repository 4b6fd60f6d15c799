using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Sampling;

/// <summary>
/// Splits a sampling request into shards, runs them on shard grains spread over the silos, and retries a shard
/// whose silo was lost; the shards are idempotent, so a retry never duplicates samples.
/// </summary>
public sealed partial class SamplingJobGrain(
    [PersistentState("sampling", GrainStorageNames.Default)] IPersistentState<SamplingJobState> state,
    ILogger<SamplingJobGrain> logger) : LongRunningGrain, ISamplingJobGrain
{
    private Task? _work;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        KeepActiveWhile(() => state.State.State == WorkState.Running);
        if (state.State.State == WorkState.Running) _work = RunAsync();
        return Task.CompletedTask;
    }

    public async Task<SamplingJobStatus> Start(SamplingJobSpec spec)
    {
        if (state.State.Spec is { } existing)
        {
            if (existing != spec) throw new InvalidOperationException($"Sampling job {this.GetPrimaryKeyString()} was already started with a different spec.");
            return Snapshot();
        }
        if (spec.Count < 1 || spec.ShardSize < 1) throw new ArgumentOutOfRangeException(nameof(spec), "Count and ShardSize must be positive.");
        state.State.Spec = spec;
        state.State.State = WorkState.Running;
        await state.WriteStateAsync();
        _work = RunAsync();
        return Snapshot();
    }

    public Task<SamplingJobStatus> GetStatus() => Task.FromResult(Snapshot());

    private async Task RunAsync()
    {
        var spec = state.State.Spec!;
        var jobId = this.GetPrimaryKeyString();
        var shards = Shards(jobId, spec);
        try
        {
            // Shards remember their results, so after a reactivation re-running all of them recomputes only the missing ones.
            state.State.Done.Clear();
            await Task.WhenAll(shards.Select(RunShardAsync));
            state.State.State = WorkState.Completed;
            LogCompleted(jobId, shards.Count);
        }
        catch (Exception e)
        {
            state.State.State = WorkState.Failed;
            state.State.Error = e.Message;
            LogFailed(e, jobId);
        }
        await state.WriteStateAsync();
    }

    private async Task<SamplingShardResult> RunShardAsync(SamplingShardSpec shard)
    {
        var result = await TransientFailures.RetryAsync(
            () => GrainFactory.GetGrain<ISamplingShardGrain>($"{shard.JobId}/{shard.ShardIndex}").Run(shard),
            (attempt, e) => LogRetry(shard.JobId, shard.ShardIndex, attempt, e.GetType().Name));
        state.State.Done.Add(result);
        return result;
    }

    private static List<SamplingShardSpec> Shards(string jobId, SamplingJobSpec spec) =>
        Enumerable.Range(0, (spec.Count + spec.ShardSize - 1) / spec.ShardSize)
            .Select(i => new SamplingShardSpec(jobId, i, i * spec.ShardSize, Math.Min(spec.ShardSize, spec.Count - i * spec.ShardSize), spec))
            .ToList();

    private SamplingJobStatus Snapshot()
    {
        var spec = state.State.Spec;
        var total = spec is null ? 0 : (spec.Count + spec.ShardSize - 1) / spec.ShardSize;
        return new SamplingJobStatus(state.State.State, total, state.State.Done.Count, state.State.Done.OrderBy(d => d.ShardIndex).ToList(), state.State.Error);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sampling job {Job} completed {Shards} shards")]
    private partial void LogCompleted(string job, int shards);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sampling job {Job}: shard {Shard} attempt {Attempt} failed ({Error}); retrying")]
    private partial void LogRetry(string job, int shard, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sampling job {Job} failed")]
    private partial void LogFailed(Exception exception, string job);
}

[GenerateSerializer]
public sealed class SamplingJobState
{
    [Id(0)] public SamplingJobSpec? Spec { get; set; }
    [Id(1)] public WorkState State { get; set; }
    [Id(2)] public List<SamplingShardResult> Done { get; set; } = [];
    [Id(3)] public string? Error { get; set; }
}
