namespace OrleansSynth.Abstractions;

/// <summary>A dataset could not be registered: unreadable, malformed, or changed since it was registered. The message
/// names the file.</summary>
[GenerateSerializer]
public sealed class DatasetRefusedException(string message) : Exception(message);
