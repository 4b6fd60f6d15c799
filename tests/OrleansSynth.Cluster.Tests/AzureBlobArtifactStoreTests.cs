using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Artifacts.Azure;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// The artifact-store contract on Azure Blob Storage (Azurite): every store a test makes has a cache of its own, as
/// each silo has, and shares the container. Also: a cached copy that rots is fetched again from the blob.
/// </summary>
public sealed class AzureBlobArtifactStoreTests(AzuriteServer azurite)
    : ArtifactStoreContract,
        IClassFixture<AzuriteServer>,
        IDisposable
{
    private readonly string _container = $"artifacts-{Guid.NewGuid():N}";
    private readonly string _caches = Directory.CreateTempSubdirectory("orleanssynth-blob-caches-").FullName;

    protected override IArtifactStore NewStore() => Store(Path.Combine(_caches, Guid.NewGuid().ToString("N")));

    private AzureBlobArtifactStore Store(string cache) =>
        new(
            Options.Create(
                new AzureBlobArtifactStoreOptions
                {
                    ConnectionString = azurite.ConnectionString,
                    Container = _container,
                    CacheRoot = cache,
                    BlockBytes = 1 << 20,
                }
            )
        );

    private BlobContainerClient Container => new(azurite.ConnectionString, _container);

    protected override async Task CorruptAsync(ArtifactRef artifact, byte[] bytes) =>
        await Container.GetBlobClient(artifact.Sha256).UploadAsync(new BinaryData(bytes), overwrite: true);

    // A writer stages blocks and commits them last: killed before the commit, only uncommitted blocks are left.
    protected override async Task LeaveHalfWrittenAsync(byte[] content)
    {
        await Container.CreateIfNotExistsAsync();
        var blob = Container.GetBlockBlobClient(
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content))
        );
        using var half = new MemoryStream(content, 0, content.Length / 2);
        await blob.StageBlockAsync(Convert.ToBase64String(Encoding.ASCII.GetBytes("00000000")), half);
    }

    [Fact]
    public async Task ACachedCopyThatRotsIsFetchedAgainFromTheBlob()
    {
        var content = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("checkpoint bytes ", 10_000)));
        var cache = Path.Combine(_caches, "rotting");
        var artifact = await Store(cache).PutBytesAsync(content, "test");
        var cached = await Store(cache).GetLocalPathAsync(artifact);
        await File.WriteAllTextAsync(cached, "rot");
        Assert.Equal(content, await Store(cache).GetBytesAsync(artifact));
    }

    public void Dispose() => Directory.Delete(_caches, recursive: true);
}
