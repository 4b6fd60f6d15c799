namespace OrleansSynth.Abstractions;

/// <summary>A sampling job: splits the request into shards and spreads them over the silos.</summary>
public interface ISamplingJobGrain : IGrainWithStringKey
{
    Task<SamplingJobStatus> Start(SamplingJobSpec spec);

    /// <summary>A failed job runs again; shards that finished keep their results. Anything else is left as it is.</summary>
    Task<SamplingJobStatus> Retry();

    /// <summary>Stops the job for good and cancels its unfinished shards; finished shards keep their samples.</summary>
    [AlwaysInterleave]
    Task Cancel();

    [AlwaysInterleave]
    Task<SamplingJobStatus> GetStatus();
}

/// <summary>
/// One shard, keyed "{job}/{index}". Produces exactly its samples; called again after success it returns the
/// stored result without recomputing.
/// </summary>
public interface ISamplingShardGrain : IGrainWithStringKey
{
    // A shard runs for minutes on a CPU; the job grain awaits it.
    [ResponseTimeout("00:30:00")]
    Task<SamplingShardResult> Run(SamplingShardSpec spec);

    /// <summary>Cancels the shard's sampling, queued or running; its Run call ends cancelled.</summary>
    [AlwaysInterleave]
    Task Cancel();
}
