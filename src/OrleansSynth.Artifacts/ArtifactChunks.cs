using OrleansSynth.Abstractions;

namespace OrleansSynth.Artifacts;

public static class ArtifactChunks
{
    /// <summary>
    /// Up to <paramref name="count"/> bytes of an artifact from <paramref name="offset"/>, for a download through grain
    /// calls: a chunk is at most <see cref="ReleaseManifest.MaxChunk"/> bytes, far below Orleans' message limit.
    /// </summary>
    public static async Task<byte[]> ReadChunkAsync(
        this IArtifactStore store,
        ArtifactRef artifact,
        long offset,
        int count,
        CancellationToken cancellationToken = default
    )
    {
        if (offset < 0 || offset > artifact.Length || count < 0 || count > ReleaseManifest.MaxChunk)
            throw new ArgumentOutOfRangeException(
                nameof(count),
                $"A chunk is at most {ReleaseManifest.MaxChunk} bytes within the file's {artifact.Length}."
            );
        await using var stream = File.OpenRead(await store.GetLocalPathAsync(artifact, cancellationToken));
        stream.Position = offset;
        var buffer = new byte[(int)Math.Min(count, artifact.Length - offset)];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }
}
