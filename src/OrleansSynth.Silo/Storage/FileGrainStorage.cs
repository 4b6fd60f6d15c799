using Orleans.Storage;

namespace OrleansSynth.Silo.Storage;

/// <summary>
/// Grain storage for the embedded mode: one file per grain state under a local folder, written to a temporary
/// file and renamed so a crash never leaves a torn state. ETags are the write counter, so a stale writer (an
/// activation that lost its silo) is refused instead of overwriting newer state.
/// </summary>
public sealed class FileGrainStorage(FileGrainStorageOptions options, OrleansGrainStorageSerializer serializer)
    : IGrainStorage
{
    private readonly string _root = Path.GetFullPath(options.Root);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.RecordExists = false;
            return;
        }
        var (etag, payload) = Split(await File.ReadAllBytesAsync(path));
        grainState.State = serializer.Deserialize<T>(BinaryData.FromBytes(payload));
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        var stored = File.Exists(path) ? Split(await File.ReadAllBytesAsync(path)).ETag : null;
        if (stored != grainState.ETag)
            throw new InconsistentStateException(
                $"ETag mismatch writing {stateName} of {grainId}",
                stored ?? "",
                grainState.ETag ?? ""
            );
        var etag = ((stored is null ? 0 : long.Parse(stored)) + 1).ToString();
        var payload = serializer.Serialize(grainState.State).ToArray();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        await using (var file = File.Create(temporary))
        {
            await file.WriteAsync(BitConverter.GetBytes(long.Parse(etag)));
            await file.WriteAsync(payload);
        }
        File.Move(temporary, path, overwrite: true);
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        File.Delete(PathOf(stateName, grainId));
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static (string ETag, byte[] Payload) Split(byte[] content) =>
        (BitConverter.ToInt64(content).ToString(), content[8..]);

    private string PathOf(string stateName, GrainId grainId) =>
        Path.Combine(_root, Uri.EscapeDataString(stateName), Uri.EscapeDataString(grainId.ToString()) + ".state");
}
