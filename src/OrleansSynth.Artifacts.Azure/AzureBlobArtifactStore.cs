using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Artifacts.Azure;

/// <summary>
/// Artifacts as block blobs named by their SHA-256 in one container, so the cluster needs no shared volume. An upload
/// stages blocks and commits them only when all are in (a writer killed midway leaves nothing visible); two writers of
/// one hash commit the same bytes. A read downloads into this silo's cache, checking the SHA-256 on the way: a blob
/// whose bytes do not match is refused, never served; a cached copy that no longer matches is fetched again.
/// </summary>
public sealed class AzureBlobArtifactStore : IArtifactStore
{
    private const string HashMetadata = "sha256";
    private readonly BlobContainerClient _container;
    private readonly string _cache;
    private readonly int _blockBytes;

    // Hashing a large checkpoint on every read is wasteful; a cached copy is verified once per process.
    private readonly ConcurrentDictionary<string, bool> _verified = new();
    private readonly Lazy<Task> _containerReady;

    public AzureBlobArtifactStore(IOptions<AzureBlobArtifactStoreOptions> options)
    {
        var settings = options.Value;
        var service =
            settings.ConnectionString.Length > 0
                ? new BlobServiceClient(settings.ConnectionString)
                : new BlobServiceClient(new Uri(settings.BlobServiceUrl), new DefaultAzureCredential());
        _container = service.GetBlobContainerClient(settings.Container);
        _cache = Path.GetFullPath(settings.CacheRoot);
        _blockBytes = settings.BlockBytes;
        Directory.CreateDirectory(_cache);
        _containerReady = new(() => _container.CreateIfNotExistsAsync());
    }

    public async Task<ArtifactRef> PutFileAsync(
        string localPath,
        string kind,
        CancellationToken cancellationToken = default
    )
    {
        if (!File.Exists(localPath))
            throw new FileNotFoundException($"{localPath}: nothing to store.", localPath);
        string hash;
        await using (var stream = File.OpenRead(localPath))
            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        var length = new FileInfo(localPath).Length;
        await _containerReady.Value;
        var blob = _container.GetBlockBlobClient(hash);
        if (!await HasBlobAsync(blob, length, cancellationToken))
            await UploadInBlocksAsync(blob, localPath, hash, cancellationToken);
        // The writer keeps a verified copy: the next read on this silo needs no download.
        var cached = CachePath(hash);
        if (!File.Exists(cached))
            CopyIntoPlace(localPath, cached);
        _verified[hash] = true;
        return new ArtifactRef(hash, length, kind);
    }

    public async Task<ArtifactRef> PutBytesAsync(
        ReadOnlyMemory<byte> content,
        string kind,
        CancellationToken cancellationToken = default
    )
    {
        var temporary = Path.Combine(_cache, $"put-{Guid.NewGuid():N}.tmp");
        await File.WriteAllBytesAsync(temporary, content.ToArray(), cancellationToken);
        try
        {
            return await PutFileAsync(temporary, kind, cancellationToken);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public async Task<string> GetLocalPathAsync(ArtifactRef artifact, CancellationToken cancellationToken = default)
    {
        var path = CachePath(artifact.Sha256);
        if (File.Exists(path))
        {
            if (_verified.ContainsKey(artifact.Sha256) || await MatchesAsync(path, artifact, cancellationToken))
            {
                _verified[artifact.Sha256] = true;
                return path;
            }
            // The local copy rotted (a disk fault, a hand): the blob is the truth; fetch it again.
            File.Delete(path);
        }
        await DownloadAsync(artifact, path, cancellationToken);
        _verified[artifact.Sha256] = true;
        return path;
    }

    public async Task<byte[]> GetBytesAsync(ArtifactRef artifact, CancellationToken cancellationToken = default) =>
        await File.ReadAllBytesAsync(await GetLocalPathAsync(artifact, cancellationToken), cancellationToken);

    public async Task<bool> ExistsAsync(ArtifactRef artifact, CancellationToken cancellationToken = default)
    {
        await _containerReady.Value;
        return await HasBlobAsync(
            _container.GetBlockBlobClient(Name(artifact.Sha256)),
            artifact.Length,
            cancellationToken
        );
    }

    public async Task<string> GetNamedPathAsync(
        ArtifactRef artifact,
        string fileName,
        CancellationToken cancellationToken = default
    )
    {
        if (fileName.Length == 0 || fileName != Path.GetFileName(fileName))
            throw new ArgumentException($"'{fileName}' is not a plain file name.", nameof(fileName));
        var content = await GetLocalPathAsync(artifact, cancellationToken);
        var named = Path.Combine(_cache, "named", artifact.Sha256, fileName);
        if (!File.Exists(named))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(named)!);
            try
            {
                File.CreateSymbolicLink(named, content);
            }
            catch (IOException) when (File.Exists(named)) { }
        }
        return named;
    }

    public async Task<string?> MaterializeNamedPathAsync(string path, CancellationToken cancellationToken = default)
    {
        // <cache>/named/<sha256>/<file>: a path another silo handed out; this silo fetches the content behind it.
        var full = Path.GetFullPath(path);
        var named = Path.Combine(_cache, "named") + Path.DirectorySeparatorChar;
        if (!full.StartsWith(named, StringComparison.Ordinal) || File.Exists(full))
            return null;
        var parts = full[named.Length..].Split(Path.DirectorySeparatorChar);
        if (parts.Length != 2 || !IsHash(parts[0]))
            return null;
        await _containerReady.Value;
        var properties = await _container
            .GetBlockBlobClient(parts[0])
            .GetPropertiesAsync(cancellationToken: cancellationToken);
        return await GetNamedPathAsync(
            new ArtifactRef(parts[0], properties.Value.ContentLength, "named"),
            parts[1],
            cancellationToken
        );
    }

    private async Task UploadInBlocksAsync(
        BlockBlobClient blob,
        string localPath,
        string hash,
        CancellationToken cancellationToken
    )
    {
        var blocks = new List<string>();
        var buffer = new byte[_blockBytes];
        await using (var file = File.OpenRead(localPath))
        {
            int read;
            while (
                (
                    read = await file.ReadAtLeastAsync(
                        buffer,
                        buffer.Length,
                        throwOnEndOfStream: false,
                        cancellationToken
                    )
                ) > 0
            )
            {
                var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{blocks.Count:D8}"));
                using var block = new MemoryStream(buffer, 0, read, writable: false);
                await blob.StageBlockAsync(id, block, cancellationToken: cancellationToken);
                blocks.Add(id);
            }
        }
        try
        {
            // Only now does the blob exist, whole; a blob already there (another writer of the same bytes) is kept.
            await blob.CommitBlockListAsync(
                blocks,
                new CommitBlockListOptions
                {
                    Metadata = new Dictionary<string, string> { [HashMetadata] = hash },
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                },
                cancellationToken
            );
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412) { }
    }

    private async Task DownloadAsync(ArtifactRef artifact, string path, CancellationToken cancellationToken)
    {
        await _containerReady.Value;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length = 0;
            await using (var target = File.Create(temporary))
            {
                var download = await _container
                    .GetBlockBlobClient(Name(artifact.Sha256))
                    .DownloadStreamingAsync(cancellationToken: cancellationToken);
                await using var source = download.Value.Content;
                var buffer = new byte[1 << 20];
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    length += read;
                }
            }
            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != artifact.Sha256 || length != artifact.Length)
                throw new ArtifactIntegrityException(
                    $"artifact {artifact} is corrupt in container {_container.Name}: "
                        + $"it hashes to {actual[..12]} ({length} bytes)."
                );
            File.Move(temporary, path, overwrite: true);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new ArtifactIntegrityException($"artifact {artifact} is missing from container {_container.Name}.");
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static async Task<bool> HasBlobAsync(BlockBlobClient blob, long length, CancellationToken cancellationToken)
    {
        try
        {
            return (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ContentLength == length;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    private static async Task<bool> MatchesAsync(string path, ArtifactRef artifact, CancellationToken cancellationToken)
    {
        if (new FileInfo(path).Length != artifact.Length)
            return false;
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken)) == artifact.Sha256;
    }

    private static void CopyIntoPlace(string source, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = $"{target}.{Guid.NewGuid():N}.tmp";
        File.Copy(source, temporary);
        File.Move(temporary, target, overwrite: true);
    }

    private string CachePath(string hash) => Path.Combine(_cache, Name(hash)[..2], Name(hash));

    private static string Name(string hash) =>
        IsHash(hash) ? hash : throw new ArgumentException($"'{hash}' is not a SHA-256 hex digest.");

    private static bool IsHash(string text) => text.Length == 64 && text.All(Uri.IsHexDigit);
}
