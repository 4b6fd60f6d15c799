namespace OrleansSynth.Abstractions;

/// <summary>
/// A reference to bytes in the artifact store: content-addressed by SHA-256, so a reader can verify what it
/// got. Heavy data (tensors, images, checkpoints) travels between grains only as these references.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ArtifactRef(
    [property: Id(0)] string Sha256,
    [property: Id(1)] long Length,
    [property: Id(2)] string Kind
)
{
    public override string ToString() => $"{Kind}:{Sha256[..12]} ({Length} bytes)";
}
