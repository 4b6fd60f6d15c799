namespace OrleansSynth.Abstractions;

/// <summary>A sampling job: splits the request into shards and spreads them over the silos.</summary>
public interface ISamplingJobGrain : IGrainWithStringKey
{
    Task<SamplingJobStatus> Start(SamplingJobSpec spec);

    /// <summary>A failed job runs again; shards that finished keep their results. Anything else is left as it
    /// is.</summary>
    Task<SamplingJobStatus> Retry();

    /// <summary>Stops the job for good and cancels its unfinished shards; finished shards keep their samples.</summary>
    [AlwaysInterleave]
    Task Cancel();

    [AlwaysInterleave]
    Task<SamplingJobStatus> GetStatus();
}

/// <summary>
/// One shard, keyed "{job}/{index}". Produces exactly its samples; once it succeeded it keeps its result and never
/// recomputes. The job polls it: no call is held open while the shard waits for a compute slot or samples.
/// </summary>
public interface ISamplingShardGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the shard unless it is under way or done, and answers with where it stands, within a few seconds
    /// (sooner when it ends). The job calls it until the shard ends; a shard whose silo died resumes at the next call.
    /// </summary>
    Task<PartStatus<SamplingShardResult>> Poll(SamplingShardSpec spec);

    /// <summary>Cancels the shard's sampling, queued or running; polls answer Cancelled.</summary>
    [AlwaysInterleave]
    Task Cancel();
}
