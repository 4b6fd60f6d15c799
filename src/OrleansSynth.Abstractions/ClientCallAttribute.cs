namespace OrleansSynth.Abstractions;

/// <summary>
/// Marks a grain method a client may call, and the least role it needs. A method without it is for silos only: the
/// cluster's call filter refuses it to every client, whatever its role.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class ClientCallAttribute(ClientRole role) : Attribute
{
    public ClientRole Role { get; } = role;
}
