namespace OrleansSynth.Abstractions;

/// <summary>A sampling job: splits the request into shards and spreads them over the silos.</summary>
public interface ISamplingJobGrain : IGrainWithStringKey
{
    Task<SamplingJobStatus> Start(SamplingJobSpec spec);

    /// <summary>A failed job runs again; shards that finished keep their results. Anything else is left as it is.</summary>
    Task<SamplingJobStatus> Retry();

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
}
