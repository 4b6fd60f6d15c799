namespace OrleansSynth.Cli.Connection;

/// <summary>No gateway of the cluster answered in time: exit code 3.</summary>
internal sealed class ClusterUnreachableException(string message) : Exception(message);
