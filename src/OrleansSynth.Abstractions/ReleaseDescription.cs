namespace OrleansSynth.Abstractions;

/// <summary>
/// What the release's model and dataset cards say in the data holder's words: where the data came from, what the
/// release is for and not for, its licence and whom to ask. Free text, shared with the release as written.
/// </summary>
/// <param name="ClassNames">A name per label, in label order; labels are shown as numbers without them.</param>
[GenerateSerializer, Immutable]
public sealed record ReleaseDescription(
    [property: Id(0)] string? DataSource = null,
    [property: Id(1)] string? IntendedUse = null,
    [property: Id(2)] string? OutOfScopeUse = null,
    [property: Id(3)] string? Licence = null,
    [property: Id(4)] string? Contact = null,
    [property: Id(5)] IReadOnlyList<string>? ClassNames = null
)
{
    /// <summary>Longest text a field may hold: a card is a page, not a document store.</summary>
    public const int MaxFieldLength = 4000;
    public const int MaxClassNameLength = 100;
}
