namespace OrleansSynth.Abstractions;

/// <summary>
/// A client call the cluster refused: no credential, a credential it does not trust, a role too low for the method, a
/// method only silos may call, or a run that belongs to another principal.
/// </summary>
[GenerateSerializer]
public sealed class AccessRefusedException(string message) : Exception(message);
