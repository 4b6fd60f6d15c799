namespace OrleansSynth.ML.Diversity;

/// <summary>How diversity-aware sampling draws and picks a synthetic twin for each real record.</summary>
/// <param name="Candidates">Candidates drawn per record and round (K).</param>
/// <param name="Guidance">Starting guidance scale w (1 = plain conditional).</param>
/// <param name="GuidanceStep">How much w drops after a round in which every candidate was linked to its source.</param>
/// <param name="GuidanceFloor">Lowest w tried; a record still linked there is skipped.</param>
/// <param name="LinkPenalty">Weight of the similarity to the source in a candidate's cost (closer costs more).</param>
/// <param name="TwinsPerRecord">Unlinked candidates kept per record, best first (at most <paramref
/// name="Candidates"/>): 1 is the paper's one twin; more buy more samples for the same sampling work.</param>
public sealed record TwinSettings(
    int Candidates = 4,
    double Guidance = 1.4,
    double GuidanceStep = 0.1,
    double GuidanceFloor = 0.5,
    double LinkPenalty = 1.0,
    int TwinsPerRecord = 1
)
{
    public void Validate()
    {
        if (Candidates < 1)
            throw new ArgumentException($"Candidates must be positive, was {Candidates}.");
        if (TwinsPerRecord < 1 || TwinsPerRecord > Candidates)
            throw new ArgumentException(
                $"TwinsPerRecord must be in [1, Candidates {Candidates}], was {TwinsPerRecord}."
            );
        if (GuidanceStep <= 0)
            throw new ArgumentException($"GuidanceStep must be positive, was {GuidanceStep}.");
        if (GuidanceFloor < 0 || GuidanceFloor > Guidance)
            throw new ArgumentException($"GuidanceFloor must be in [0, Guidance {Guidance}], was {GuidanceFloor}.");
        if (LinkPenalty < 0)
            throw new ArgumentException($"LinkPenalty must be non-negative, was {LinkPenalty}.");
    }

    /// <summary>The guidance of round <paramref name="round"/> (0-based), or null once it would fall below the
    /// floor.</summary>
    public double? GuidanceForRound(int round)
    {
        // Rounded so 1.4 - 4 x 0.1 lands on 1.0 exactly rather than 0.9999999.
        var w = Math.Round(Guidance - round * GuidanceStep, 9);
        return w < GuidanceFloor ? null : w;
    }
}
