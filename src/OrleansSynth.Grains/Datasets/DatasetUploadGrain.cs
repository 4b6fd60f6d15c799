using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Pipeline;

namespace OrleansSynth.Grains.Datasets;

/// <summary>
/// Receives an uploaded dataset archive chunk by chunk into a scratch file on its silo, then checks its hash and moves
/// it into the artifact store. An upload whose silo is lost starts over (the client sends it again); a partial file
/// left by an abandoned upload is removed when its activation ends, or by the next upload once it is old.
/// </summary>
public sealed class DatasetUploadGrain(IArtifactStore artifacts, IOptions<ClusterLimitsOptions> limits)
    : Grain,
        IDatasetUploadGrain
{
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), "orleanssynth", "uploads");

    private string Scratch
    {
        get
        {
            var key = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(this.GetPrimaryKeyString()));
            return Path.Combine(Folder, $"{Convert.ToHexStringLower(key)[..24]}.partial");
        }
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        RemoveAbandoned(limits.Value.AbandonedUploadAfter);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Completed uploads moved their file into the store; anything left here was abandoned.
        File.Delete(Scratch);
        return Task.CompletedTask;
    }

    public async Task Append(long offset, byte[] chunk)
    {
        if (chunk.Length > ReleaseManifest.MaxChunk)
            throw new ArgumentException($"A chunk is at most {ReleaseManifest.MaxChunk} bytes.");
        if (offset < 0 || offset + chunk.Length > limits.Value.MaxUploadBytes)
            throw new ArgumentException(
                $"An upload is at most {limits.Value.MaxUploadBytes} bytes, the cluster's limit "
                    + $"(OrleansSynth:Limits:MaxUploadBytes)."
            );
        Directory.CreateDirectory(Folder);
        await using var file = new FileStream(Scratch, FileMode.OpenOrCreate, FileAccess.Write);
        if (offset != file.Length)
            throw new InvalidOperationException(
                $"Upload {this.GetPrimaryKeyString()}: chunk at {offset}, but {file.Length} bytes were received; "
                    + $"start the upload over."
            );
        file.Position = offset;
        await file.WriteAsync(chunk);
    }

    public async Task<string> Complete(string sha256, string fileName)
    {
        if (!File.Exists(Scratch))
            throw new InvalidOperationException($"Upload {this.GetPrimaryKeyString()}: nothing was received.");
        string hash;
        await using (var file = File.OpenRead(Scratch))
            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
        if (hash != sha256)
        {
            File.Delete(Scratch);
            throw new InvalidDataException(
                $"Upload {this.GetPrimaryKeyString()}: the received file hashes to {hash}, not {sha256}; start the "
                    + $"upload over."
            );
        }
        var artifact = await artifacts.PutFileAsync(Scratch, "dataset-upload");
        File.Delete(Scratch);
        DeactivateOnIdle();
        return await artifacts.GetNamedPathAsync(artifact, Path.GetFileName(fileName));
    }

    /// <summary>Partial files of uploads whose silo died, or that no chunk reached for <paramref
    /// name="age"/>.</summary>
    private static void RemoveAbandoned(TimeSpan age)
    {
        if (!Directory.Exists(Folder))
            return;
        foreach (var partial in Directory.EnumerateFiles(Folder, "*.partial"))
        {
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(partial) < age)
                continue;
            try
            {
                File.Delete(partial);
            }
            catch (IOException) { } // another silo's upload finishing at this moment
        }
    }
}
