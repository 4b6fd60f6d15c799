namespace OrleansSynth.Silo.Storage;

public sealed class FileGrainStorageOptions
{
    /// <summary>Folder holding one file per grain state; survives restarts of the embedded silo.</summary>
    public string Root { get; set; } = Path.Combine("data", "grain-state");
}
