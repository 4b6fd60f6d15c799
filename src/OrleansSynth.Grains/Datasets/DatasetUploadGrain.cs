using System.Security.Cryptography;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;

namespace OrleansSynth.Grains.Datasets;

/// <summary>
/// Receives an uploaded dataset archive chunk by chunk into a scratch file on its silo, then checks its hash and moves
/// it into the artifact store. An upload whose silo is lost starts over (the client sends it again).
/// </summary>
public sealed class DatasetUploadGrain(IArtifactStore artifacts) : Grain, IDatasetUploadGrain
{
    private string Scratch => Path.Combine(Path.GetTempPath(), "orleanssynth", "uploads", $"{Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(this.GetPrimaryKeyString())))[..24]}.partial");

    public async Task Append(long offset, byte[] chunk)
    {
        if (chunk.Length > ReleaseManifest.MaxChunk) throw new ArgumentException($"A chunk is at most {ReleaseManifest.MaxChunk} bytes.");
        Directory.CreateDirectory(Path.GetDirectoryName(Scratch)!);
        await using var file = new FileStream(Scratch, FileMode.OpenOrCreate, FileAccess.Write);
        if (offset != file.Length) throw new InvalidOperationException($"Upload {this.GetPrimaryKeyString()}: chunk at {offset}, but {file.Length} bytes were received; start the upload over.");
        file.Position = offset;
        await file.WriteAsync(chunk);
    }

    public async Task<string> Complete(string sha256, string fileName)
    {
        if (!File.Exists(Scratch)) throw new InvalidOperationException($"Upload {this.GetPrimaryKeyString()}: nothing was received.");
        string hash;
        await using (var file = File.OpenRead(Scratch)) hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
        if (hash != sha256)
        {
            File.Delete(Scratch);
            throw new InvalidDataException($"Upload {this.GetPrimaryKeyString()}: the received file hashes to {hash}, not {sha256}; start the upload over.");
        }
        var artifact = await artifacts.PutFileAsync(Scratch, "dataset-upload");
        DeactivateOnIdle();
        return await artifacts.GetNamedPathAsync(artifact, Path.GetFileName(fileName));
    }
}
