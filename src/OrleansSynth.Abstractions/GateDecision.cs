namespace OrleansSynth.Abstractions;

/// <summary>What the gate before the student or the release looked at.</summary>
[GenerateSerializer, Immutable]
public sealed record GateEvidence(
    [property: Id(0)] int TilesTotal,
    [property: Id(1)] int TilesDone,
    [property: Id(2)] int FlaggedSamples,
    [property: Id(3)] int FlaggedRemaining,
    [property: Id(4)] int SamplesRemaining,
    [property: Id(5)] int MinimumSamples,
    [property: Id(6)] bool ApprovalRequired,
    [property: Id(7)] string? ApprovedBy,
    [property: Id(8)] int CanariesPlanted = 0,
    [property: Id(9)] double CanaryRecall = 0,
    [property: Id(10)] double MinimumCanaryRecall = 0.95
);

/// <summary>One decision of the gate, stored with its evidence, time and who asked.</summary>
[GenerateSerializer, Immutable]
public sealed record GateDecision(
    [property: Id(0)] bool Open,
    [property: Id(1)] IReadOnlyList<string> Reasons,
    [property: Id(2)] GateEvidence Evidence,
    [property: Id(3)] DateTimeOffset DecidedAt,
    [property: Id(4)] string RequestedBy
);
