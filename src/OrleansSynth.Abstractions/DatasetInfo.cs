namespace OrleansSynth.Abstractions;

/// <summary>
/// A registered real dataset: where it is, what it holds, and content hashes (of every image's bytes, label and id)
/// that pin its version; <paramref name="RecordIndex"/> lists the registered record ids, to name a file that changed.
/// <paramref name="HasReports"/>: its training records carry reports, so its models read them.
/// </summary>
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
    [property: Id(10)] IReadOnlyList<int>? TrainLabelCounts = null,
    [property: Id(11)] string? TrainContentHash = null,
    [property: Id(12)] string? TestContentHash = null,
    [property: Id(13)] ArtifactRef? RecordIndex = null,
    [property: Id(14)] bool HasReports = false
)
{
    // A record compares lists by reference; two registrations of the same files must compare equal.
    public bool Equals(DatasetInfo? other) =>
        other is not null
        && (Source, Format, Path, ContentHash, TrainCount, TestCount, NumClasses, Channels, ImageSize, RegisteredAt)
            == (
                other.Source,
                other.Format,
                other.Path,
                other.ContentHash,
                other.TrainCount,
                other.TestCount,
                other.NumClasses,
                other.Channels,
                other.ImageSize,
                other.RegisteredAt
            )
        && (TrainLabelCounts ?? []).SequenceEqual(other.TrainLabelCounts ?? [])
        && (TrainContentHash, TestContentHash, RecordIndex, HasReports)
            == (other.TrainContentHash, other.TestContentHash, other.RecordIndex, other.HasReports);

    public override int GetHashCode() => HashCode.Combine(Source, ContentHash, TrainCount, RegisteredAt);
}
