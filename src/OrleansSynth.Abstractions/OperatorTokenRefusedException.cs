namespace OrleansSynth.Abstractions;

/// <summary>An operator action (approve, cancel, policy, internal report) was called without the cluster's operator token.</summary>
[GenerateSerializer]
public sealed class OperatorTokenRefusedException(string message) : Exception(message);
