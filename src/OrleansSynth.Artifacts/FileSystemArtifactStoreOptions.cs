namespace OrleansSynth.Artifacts;

public sealed class FileSystemArtifactStoreOptions
{
    /// <summary>Root folder: a local folder when embedded, a volume every silo mounts when distributed.</summary>
    public string Root { get; set; } = Path.Combine("data", "artifacts");
}
