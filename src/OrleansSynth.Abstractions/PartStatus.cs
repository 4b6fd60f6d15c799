namespace OrleansSynth.Abstractions;

/// <summary>
/// Where one part of a fanned-out job (a sampling shard, a scan tile) stands when its grain answers a poll: running
/// (queued behind a compute slot or computing), completed with its result, failed with an error, or cancelled.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PartStatus<TResult>(
    [property: Id(0)] WorkState State,
    [property: Id(1)] TResult? Result = null,
    [property: Id(2)] string? Error = null
)
    where TResult : class;
