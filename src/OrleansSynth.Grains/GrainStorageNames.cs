namespace OrleansSynth.Grains;

public static class GrainStorageNames
{
    /// <summary>The grain storage every OrleansSynth grain persists to (file storage embedded, Redis
    /// distributed).</summary>
    public const string Default = "synth";
}
