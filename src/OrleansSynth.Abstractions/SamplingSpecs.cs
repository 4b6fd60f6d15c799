namespace OrleansSynth.Abstractions;

/// <summary>
/// A sampling job: <paramref name="Count"/> images from a checkpoint, split into shards of <paramref name="ShardSize"/>.
/// Without <paramref name="ClassCounts"/> the labels are class-balanced; with it they follow those proportions
/// (e.g. the real training set's label counts).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SamplingJobSpec(
    [property: Id(0)] ArtifactRef Checkpoint,
    [property: Id(1)] int Count,
    [property: Id(2)] int ShardSize,
    [property: Id(3)] long Seed = 1,
    [property: Id(4)] double Guidance = 2.0,
    [property: Id(5)] int DdimSteps = 50,
    [property: Id(6)] IReadOnlyList<int>? ClassCounts = null);

/// <summary>One shard: samples with global indices [Start, Start + Count) of a job.</summary>
[GenerateSerializer, Immutable]
public sealed record SamplingShardSpec(
    [property: Id(0)] string JobId,
    [property: Id(1)] int ShardIndex,
    [property: Id(2)] int Start,
    [property: Id(3)] int Count,
    [property: Id(4)] SamplingJobSpec Job);

/// <summary>A finished shard: its samples are in the artifact store as one bundle.</summary>
[GenerateSerializer, Immutable]
public sealed record SamplingShardResult(
    [property: Id(0)] int ShardIndex,
    [property: Id(1)] int Start,
    [property: Id(2)] int Count,
    [property: Id(3)] ArtifactRef Samples,
    [property: Id(4)] string Silo);

[GenerateSerializer, Immutable]
public sealed record SamplingJobStatus(
    [property: Id(0)] WorkState State,
    [property: Id(1)] int ShardsTotal,
    [property: Id(2)] int ShardsDone,
    [property: Id(3)] IReadOnlyList<SamplingShardResult> Shards,
    [property: Id(4)] string? Error);
