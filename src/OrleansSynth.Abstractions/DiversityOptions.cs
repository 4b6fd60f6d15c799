namespace OrleansSynth.Abstractions;

/// <summary>How diversity-aware sampling draws and picks each record's twin (the ML library's TwinSettings, on the
/// wire).</summary>
/// <param name="Candidates">Candidates per record and round (K).</param>
/// <param name="Guidance">Starting guidance scale w.</param>
/// <param name="GuidanceStep">Drop in w after a round in which all K candidates were linked.</param>
/// <param name="GuidanceFloor">Lowest w; a record still linked there is skipped and counted.</param>
/// <param name="LinkPenalty">Weight of the similarity to the source in a candidate's cost.</param>
/// <param name="TwinsPerRecord">Unlinked candidates kept per record, best first (1 to <paramref
/// name="Candidates"/>).</param>
[GenerateSerializer, Immutable]
public sealed record DiversityOptions(
    [property: Id(0)] int Candidates = 4,
    [property: Id(1)] double Guidance = 1.4,
    [property: Id(2)] double GuidanceStep = 0.1,
    [property: Id(3)] double GuidanceFloor = 0.5,
    [property: Id(4)] double LinkPenalty = 1.0,
    [property: Id(6)] int TwinsPerRecord = 1
);
