using System.Security.Cryptography;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cli.Client;

/// <summary>
/// Downloads a run's release through the cluster, file by file in chunks far below Orleans' message limit, checks each
/// file against its SHA-256, and moves the folder into place only when all of it arrived: a failed export leaves
/// nothing half-written.
/// </summary>
internal static class ReleaseExporter
{
    public static async Task<ReleaseManifest> ExportAsync(
        IPipelineCoordinatorGrain run,
        string target,
        Action<ReleaseFile>? progress,
        CancellationToken cancellationToken
    )
    {
        var manifest = await run.GetRelease()
            ?? throw new InvalidOperationException(
                $"run {run.GetPrimaryKeyString()} has no release yet (it is not finished)."
            );
        target = Path.GetFullPath(target);
        var building = $"{target}.partial-{Guid.NewGuid():N}";
        try
        {
            foreach (var file in manifest.Files)
            {
                var path = Path.GetFullPath(Path.Combine(building, file.Path));
                if (!path.StartsWith(building + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    throw new InvalidDataException($"the release names a file outside its folder: {file.Path}");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await DownloadAsync(
                    (offset, count) => run.ReadReleaseFile(file.Path, offset, count),
                    file.Artifact,
                    path,
                    cancellationToken
                );
                progress?.Invoke(file);
            }
            if (Directory.Exists(target))
            {
                var old = $"{target}.old-{Guid.NewGuid():N}";
                Directory.Move(target, old);
                Directory.Delete(old, recursive: true);
            }
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            Directory.Move(building, target);
            return manifest;
        }
        finally
        {
            if (Directory.Exists(building))
                Directory.Delete(building, recursive: true);
        }
    }

    /// <summary>Writes the internal report (it names real records) to <paramref name="target"/>, atomically.</summary>
    public static async Task ExportInternalReportAsync(
        IPipelineCoordinatorGrain run,
        string target,
        CancellationToken cancellationToken
    )
    {
        var artifact = await run.GetInternalReport()
            ?? throw new InvalidOperationException(
                $"run {run.GetPrimaryKeyString()} has no internal report yet (it is not finished)."
            );
        await DownloadFileAsync(
            (offset, count) => run.ReadInternalReport(offset, count),
            artifact,
            target,
            cancellationToken
        );
    }

    /// <summary>Downloads one artifact to <paramref name="target"/>, written whole or not at all.</summary>
    public static async Task DownloadFileAsync(
        Func<long, int, Task<byte[]>> read,
        ArtifactRef artifact,
        string target,
        CancellationToken cancellationToken
    )
    {
        target = Path.GetFullPath(target);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var partial = $"{target}.partial-{Guid.NewGuid():N}";
        try
        {
            await DownloadAsync(read, artifact, partial, cancellationToken);
            File.Move(partial, target, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>Downloads one artifact chunk by chunk into <paramref name="path"/> and checks its SHA-256.</summary>
    public static async Task DownloadAsync(
        Func<long, int, Task<byte[]>> read,
        ArtifactRef artifact,
        string path,
        CancellationToken cancellationToken
    )
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var output = File.Create(path))
        {
            for (long offset = 0; offset < artifact.Length; )
            {
                cancellationToken.ThrowIfCancellationRequested();
                var chunk = await read(offset, ReleaseManifest.MaxChunk);
                if (chunk.Length == 0)
                    throw new InvalidDataException(
                        $"{Path.GetFileName(path)}: the cluster sent {offset} of {artifact.Length} bytes."
                    );
                hash.AppendData(chunk);
                await output.WriteAsync(chunk, cancellationToken);
                offset += chunk.Length;
            }
        }
        var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (sha != artifact.Sha256)
            throw new InvalidDataException(
                $"{Path.GetFileName(path)}: SHA-256 {sha} does not match the release's {artifact.Sha256}."
            );
    }
}
