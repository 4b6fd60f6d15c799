using OrleansSynth.Abstractions;

namespace OrleansSynth.Artifacts;

/// <summary>
/// Content-addressed storage for tensors, images and checkpoints. Writing the same bytes twice yields the same
/// reference; reading checks the content against the reference's hash.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Moves (or copies) a finished local file into the store.</summary>
    Task<ArtifactRef> PutFileAsync(string localPath, string kind, CancellationToken cancellationToken = default);

    Task<ArtifactRef> PutBytesAsync(
        ReadOnlyMemory<byte> content,
        string kind,
        CancellationToken cancellationToken = default
    );

    /// <summary>A local path holding the artifact's verified content, for libraries that read files
    /// (TorchSharp).</summary>
    Task<string> GetLocalPathAsync(ArtifactRef artifact, CancellationToken cancellationToken = default);

    Task<byte[]> GetBytesAsync(ArtifactRef artifact, CancellationToken cancellationToken = default);

    Task<bool> ExistsAsync(ArtifactRef artifact, CancellationToken cancellationToken = default);

    /// <summary>
    /// A path every silo sees holding the artifact under <paramref name="fileName"/>, for readers that go by a file's
    /// name or extension (an uploaded dataset archive). Verified like <see cref="GetLocalPathAsync"/>.
    /// </summary>
    Task<string> GetNamedPathAsync(
        ArtifactRef artifact,
        string fileName,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Makes a path that <see cref="GetNamedPathAsync"/> handed out (on any silo) readable on this one; returns it, or
    /// null when it is not such a path or already there. A store on a shared volume has nothing to do.
    /// </summary>
    Task<string?> MaterializeNamedPathAsync(string path, CancellationToken cancellationToken = default);
}
