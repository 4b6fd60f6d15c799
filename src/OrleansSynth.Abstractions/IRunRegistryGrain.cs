namespace OrleansSynth.Abstractions;

/// <summary>
/// The cluster's list of pipeline runs, one grain keyed <see cref="Key"/>. A run is submitted under a name; the same
/// name with the same spec is the same run (submitting again changes nothing), with another spec it is refused.
/// </summary>
public interface IRunRegistryGrain : IGrainWithStringKey
{
    public const string Key = "runs";

    /// <summary>Starts the run named <paramref name="name"/> (a fresh name when null) and returns it.</summary>
    [ClientCall(ClientRole.Submitter)]
    Task<RunSummary> Submit(string? name, PipelineSpec spec);

    [AlwaysInterleave]
    [ClientCall(ClientRole.Submitter)]
    Task<IReadOnlyList<RunSummary>> List();
}

[GenerateSerializer, Immutable]
public sealed record RunSummary(
    [property: Id(0)] string Name,
    [property: Id(1)] DateTimeOffset SubmittedAt,
    [property: Id(2)] string Strategy,
    [property: Id(3)] WorkState State,
    [property: Id(4)] string? Stage,
    [property: Id(5)] bool Created = false
);
