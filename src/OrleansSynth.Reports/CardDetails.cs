namespace OrleansSynth.Reports;

/// <summary>The data holder's own words for the cards: data source, intended and excluded uses, licence,
/// contact.</summary>
public sealed record CardDetails(
    string? DataSource,
    string? IntendedUse,
    string? OutOfScopeUse,
    string? Licence,
    string? Contact,
    IReadOnlyList<string>? ClassNames
);
