namespace OrleansSynth.Abstractions;

/// <summary>A privacy audit: prepares the encoder and embeddings, spreads the scan tiles over the silos, reduces
/// them.</summary>
public interface IPrivacyAuditGrain : IGrainWithStringKey
{
    Task<AuditStatus> Start(AuditSpec spec);

    /// <summary>A failed audit runs again (cached encoder and embeddings, finished tiles kept). Anything else is left
    /// as it is.</summary>
    Task<AuditStatus> Retry();

    /// <summary>Stops the audit for good and cancels its unfinished tiles. A finished audit is left as it is.</summary>
    [AlwaysInterleave]
    Task Cancel();

    [AlwaysInterleave]
    Task<AuditStatus> GetStatus();
}

/// <summary>One scan tile, keyed "{audit}/{synthetic start}-{real start}"; idempotent and polled like a sampling
/// shard.</summary>
public interface IAuditTileGrain : IGrainWithStringKey
{
    /// <summary>Starts the tile unless it is under way or done, and answers with where it stands within a few
    /// seconds.</summary>
    Task<PartStatus<AuditTileResult>> Poll(AuditTileSpec spec);

    /// <summary>Cancels the tile's scan, queued or running; polls answer Cancelled.</summary>
    [AlwaysInterleave]
    Task Cancel();
}
