using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Security;

/// <summary>Who a client is, as the cluster established it from the client's credential.</summary>
/// <param name="Name">The certificate's common name, or "operator (token)" for the holder of the operator token (the
/// local silo's own).</param>
[GenerateSerializer, Immutable]
public sealed record Principal([property: Id(0)] string Name, [property: Id(1)] ClientRole Role)
{
    public override string ToString() => $"{Name} ({Role.ToString().ToLowerInvariant()})";
}
