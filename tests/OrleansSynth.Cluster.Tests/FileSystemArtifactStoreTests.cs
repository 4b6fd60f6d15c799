using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;

namespace OrleansSynth.Cluster.Tests;

/// <summary>The artifact-store contract on the file system (a shared volume in a cluster).</summary>
public sealed class FileSystemArtifactStoreTests : ArtifactStoreContract, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("orleanssynth-fs-store-").FullName;

    protected override IArtifactStore NewStore() =>
        new FileSystemArtifactStore(Options.Create(new FileSystemArtifactStoreOptions { Root = _root }));

    protected override Task CorruptAsync(ArtifactRef artifact, byte[] bytes) =>
        File.WriteAllBytesAsync(PathOf(artifact.Sha256), bytes);

    // A writer writes to a temporary name and renames it into place: killed before the rename, only the temporary is
    // left.
    protected override async Task LeaveHalfWrittenAsync(byte[] content)
    {
        var target = PathOf(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content)));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await File.WriteAllBytesAsync(
            $"{target}.{Guid.NewGuid():N}.tmp",
            content.AsMemory(0, content.Length / 2).ToArray()
        );
    }

    private string PathOf(string hash) => Path.Combine(_root, hash[..2], hash);

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
