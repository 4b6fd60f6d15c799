namespace OrleansSynth.Abstractions;

/// <summary>A registered real dataset: where it is, what it holds, and a content hash that pins its version.</summary>
[GenerateSerializer, Immutable]
public sealed record DatasetInfo(
    [property: Id(0)] string Source,
    [property: Id(1)] string Format,
    [property: Id(2)] string Path,
    [property: Id(3)] string ContentHash,
    [property: Id(4)] int TrainCount,
    [property: Id(5)] int TestCount,
    [property: Id(6)] int NumClasses,
    [property: Id(7)] int Channels,
    [property: Id(8)] int ImageSize,
    [property: Id(9)] DateTimeOffset RegisteredAt,
    [property: Id(10)] IReadOnlyList<int>? TrainLabelCounts = null);
