using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Artifacts;

/// <summary>
/// Artifacts as files named by their SHA-256 under a root folder (a shared volume in a cluster). Files are
/// written to a temporary name and renamed into place, so readers never see a partial artifact.
/// </summary>
public sealed class FileSystemArtifactStore : IArtifactStore
{
    private readonly string _root;

    // Hashing a large checkpoint on every read is wasteful; a file is verified once per process.
    private readonly ConcurrentDictionary<string, bool> _verified = new();

    public FileSystemArtifactStore(IOptions<FileSystemArtifactStoreOptions> options)
    {
        _root = Path.GetFullPath(options.Value.Root);
        Directory.CreateDirectory(_root);
    }

    public string Root => _root;

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
        var target = PathOf(hash);
        if (!File.Exists(target))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var temporary = $"{target}.{Guid.NewGuid():N}.tmp";
            File.Copy(localPath, temporary);
            File.Move(temporary, target, overwrite: true);
        }
        _verified[hash] = true;
        return new ArtifactRef(hash, length, kind);
    }

    public async Task<ArtifactRef> PutBytesAsync(
        ReadOnlyMemory<byte> content,
        string kind,
        CancellationToken cancellationToken = default
    )
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(content.Span));
        var target = PathOf(hash);
        if (!File.Exists(target))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var temporary = $"{target}.{Guid.NewGuid():N}.tmp";
            await File.WriteAllBytesAsync(temporary, content.ToArray(), cancellationToken);
            File.Move(temporary, target, overwrite: true);
        }
        _verified[hash] = true;
        return new ArtifactRef(hash, content.Length, kind);
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
        var folder = Path.Combine(_root, "named", artifact.Sha256);
        var named = Path.Combine(folder, fileName);
        if (!File.Exists(named))
        {
            Directory.CreateDirectory(folder);
            // A link, not a copy: the content stays where its hash says, written once.
            try
            {
                File.CreateSymbolicLink(named, content);
            }
            catch (IOException) when (File.Exists(named)) { }
        }
        return named;
    }

    // Every silo mounts the same volume: a named path is already readable everywhere.
    public Task<string?> MaterializeNamedPathAsync(string path, CancellationToken cancellationToken = default) =>
        Task.FromResult<string?>(null);

    public async Task<string> GetLocalPathAsync(ArtifactRef artifact, CancellationToken cancellationToken = default)
    {
        var path = PathOf(artifact.Sha256);
        if (!File.Exists(path))
            throw new ArtifactIntegrityException($"artifact {artifact} is missing from {_root}.");
        if (_verified.ContainsKey(artifact.Sha256))
            return path;
        var length = new FileInfo(path).Length;
        string hash;
        await using (var stream = File.OpenRead(path))
            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        if (hash != artifact.Sha256 || length != artifact.Length)
            throw new ArtifactIntegrityException(
                $"artifact {artifact} is corrupt: {path} hashes to {hash[..12]} ({length} bytes)."
            );
        _verified[artifact.Sha256] = true;
        return path;
    }

    public async Task<byte[]> GetBytesAsync(ArtifactRef artifact, CancellationToken cancellationToken = default) =>
        await File.ReadAllBytesAsync(await GetLocalPathAsync(artifact, cancellationToken), cancellationToken);

    public Task<bool> ExistsAsync(ArtifactRef artifact, CancellationToken cancellationToken = default) =>
        Task.FromResult(File.Exists(PathOf(artifact.Sha256)));

    private string PathOf(string hash)
    {
        if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
            throw new ArgumentException($"'{hash}' is not a SHA-256 hex digest.");
        return Path.Combine(_root, hash[..2], hash);
    }
}
