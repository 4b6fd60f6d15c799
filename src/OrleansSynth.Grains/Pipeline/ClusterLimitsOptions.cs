namespace OrleansSynth.Grains.Pipeline;

/// <summary>
/// What one client may ask of the cluster (configuration section OrleansSynth:Limits): a spec or upload over a limit is
/// refused at submission, naming the key and the limit.
/// </summary>
public sealed class ClusterLimitsOptions
{
    /// <summary>Training steps of any one model (teacher, student, classifiers, the audit's encoder and
    /// verifier).</summary>
    public int MaxSteps { get; set; } = 200_000;

    /// <summary>Synthetic samples (or records to twin) of one run.</summary>
    public int MaxSamples { get; set; } = 200_000;

    public int MaxCanaries { get; set; } = 5_000;

    /// <summary>Shards of one sampling job (sampling.count over sampling.shardSize).</summary>
    public int MaxShards { get; set; } = 5_000;

    /// <summary>Synthetic rows of one audit tile (the smaller the tile, the more tiles and grains).</summary>
    public int MinSyntheticTile { get; set; } = 64;

    /// <summary>Real records of one audit tile.</summary>
    public int MinRealTile { get; set; } = 512;

    /// <summary>Unfinished runs one principal may have at once.</summary>
    public int MaxRunningRunsPerPrincipal { get; set; } = 4;

    /// <summary>Gate decisions a run keeps (the latest ones; each is one request of the gate).</summary>
    public int MaxDecisions { get; set; } = 200;

    /// <summary>Bytes of one dataset upload.</summary>
    public long MaxUploadBytes { get; set; } = 4L << 30;

    /// <summary>How long an unfinished upload may sit without a chunk before its partial file is removed.</summary>
    public TimeSpan AbandonedUploadAfter { get; set; } = TimeSpan.FromMinutes(30);
}
