namespace OrleansSynth.Grains.FanOut;

/// <summary>A part of a fanned-out job failed with an error in its work (not a silo loss); the job fails with its
/// message.</summary>
public sealed class PartFailedException(string message) : Exception(message);
