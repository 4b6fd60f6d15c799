using System.Security.Cryptography;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// What every artifact store promises, run against each implementation (FileSystemArtifactStoreTests,
/// AzureBlobArtifactStoreTests): content-addressed writes, verified reads, ranged reads, a clear refusal of a missing
/// or corrupt artifact (never its bytes), two writers of one hash at once, and nothing visible of a writer killed
/// midway.
/// </summary>
public abstract class ArtifactStoreContract
{
    /// <summary>
    /// A store over the same backing storage as every other this test makes, with nothing verified or cached.
    /// </summary>
    protected abstract IArtifactStore NewStore();

    /// <summary>Overwrites the stored bytes of <paramref name="artifact"/> behind the store's back.</summary>
    protected abstract Task CorruptAsync(ArtifactRef artifact, byte[] bytes);

    /// <summary>
    /// Leaves what a writer killed in the middle of storing <paramref name="content"/> leaves behind.
    /// </summary>
    protected abstract Task LeaveHalfWrittenAsync(byte[] content);

    private static byte[] Content(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task WhatIsWrittenIsReadBackVerifiedUnderItsHash()
    {
        var content = Content(300_000, 1);
        var store = NewStore();
        var artifact = await store.PutBytesAsync(content, "test");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), artifact.Sha256);
        Assert.Equal(content.Length, artifact.Length);
        Assert.Equal(artifact, await store.PutBytesAsync(content, "test")); // the same bytes, the same reference
        var reader = NewStore();
        Assert.True(await reader.ExistsAsync(artifact));
        Assert.Equal(content, await reader.GetBytesAsync(artifact));
        Assert.Equal(content, await File.ReadAllBytesAsync(await reader.GetLocalPathAsync(artifact)));
    }

    [Fact]
    public async Task ARangedReadReturnsExactlyThatRange()
    {
        var content = Content(2_500_000, 2);
        var artifact = await NewStore().PutBytesAsync(content, "test");
        var reader = NewStore();
        Assert.Equal(
            content.AsSpan(1_000_001, 700_000).ToArray(),
            await reader.ReadChunkAsync(artifact, 1_000_001, 700_000)
        );
        // the tail
        Assert.Equal(content.AsSpan(2_400_000).ToArray(), await reader.ReadChunkAsync(artifact, 2_400_000, 1 << 20));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => reader.ReadChunkAsync(artifact, -1, 10));
    }

    [Fact]
    public async Task AMissingArtifactIsRefusedClearly()
    {
        var absent = new ArtifactRef(Convert.ToHexStringLower(SHA256.HashData(Content(10, 3))), 10, "test");
        var store = NewStore();
        Assert.False(await store.ExistsAsync(absent));
        var error = await Assert.ThrowsAsync<ArtifactIntegrityException>(() => store.GetLocalPathAsync(absent));
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public async Task ACorruptArtifactIsRefusedNeverServed()
    {
        var content = Content(100_000, 4);
        var artifact = await NewStore().PutBytesAsync(content, "test");
        var rotten = (byte[])content.Clone();
        rotten[50_000] ^= 0xFF;
        await CorruptAsync(artifact, rotten);
        var error = await Assert.ThrowsAsync<ArtifactIntegrityException>(() => NewStore().GetBytesAsync(artifact));
        Assert.Contains("corrupt", error.Message);
        Assert.Contains(artifact.Sha256[..12], error.Message); // which artifact, by its hash
    }

    [Fact]
    public async Task TwoWritersOfOneHashAtOnceBothSucceedWithOneWholeArtifact()
    {
        var content = Content(3_000_000, 5);
        var folder = Directory.CreateTempSubdirectory("orleanssynth-contract-").FullName;
        try
        {
            var (first, second) = (Path.Combine(folder, "a.bin"), Path.Combine(folder, "b.bin"));
            await File.WriteAllBytesAsync(first, content);
            await File.WriteAllBytesAsync(second, content);
            var written = await Task.WhenAll(
                Task.Run(() => NewStore().PutFileAsync(first, "test")),
                Task.Run(() => NewStore().PutFileAsync(second, "test"))
            );
            Assert.Equal(written[0], written[1]);
            Assert.Equal(content, await NewStore().GetBytesAsync(written[0]));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task AWriterKilledMidwayLeavesNothingVisibleAndNothingCorrupt()
    {
        var content = Content(1_500_000, 6);
        var artifact = new ArtifactRef(Convert.ToHexStringLower(SHA256.HashData(content)), content.Length, "test");
        await LeaveHalfWrittenAsync(content);
        var store = NewStore();
        Assert.False(await store.ExistsAsync(artifact));
        await Assert.ThrowsAsync<ArtifactIntegrityException>(() => store.GetLocalPathAsync(artifact));
        // The next writer stores it whole.
        Assert.Equal(artifact, await store.PutBytesAsync(content, "test"));
        Assert.Equal(content, await NewStore().GetBytesAsync(artifact));
    }
}
