namespace OrleansSynth.Abstractions;

/// <summary>
/// The shareable files of a finished run, stored in the artifact store: the released synthetic samples, the student
/// checkpoint when released, and the report; or the report alone when the release was refused. A client downloads
/// each file in chunks and checks it against its SHA-256.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ReleaseManifest(
    [property: Id(0)] bool Released,
    [property: Id(1)] IReadOnlyList<ReleaseFile> Files
)
{
    /// <summary>The largest chunk a download asks for: far below Orleans' message size limit.</summary>
    public const int MaxChunk = 1 << 20;
}

/// <param name="Path">Relative path in the release folder, with '/' separators.</param>
[GenerateSerializer, Immutable]
public sealed record ReleaseFile([property: Id(0)] string Path, [property: Id(1)] ArtifactRef Artifact);
