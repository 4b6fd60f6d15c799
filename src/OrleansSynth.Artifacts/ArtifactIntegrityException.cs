namespace OrleansSynth.Artifacts;

/// <summary>An artifact is missing or its bytes no longer match its reference.</summary>
public sealed class ArtifactIntegrityException(string message) : Exception(message);
