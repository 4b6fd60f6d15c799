namespace OrleansSynth.ML.Diversity;

/// <summary>What diversity-aware sampling did for a range of records.</summary>
/// <param name="Records">Source records processed.</param>
/// <param name="Twins">Records that got a twin (one sample each).</param>
/// <param name="Extras">Candidates kept beyond each record's first twin (see <see
/// cref="TwinSettings.TwinsPerRecord"/>).</param>
/// <param name="CandidatesDrawn">Every candidate generated, over all rounds.</param>
/// <param name="RejectedLinked">Candidates rejected because they were linked to their source.</param>
/// <param name="Retries">Redraws at a lower guidance, summed over records (a record twinned in its first round adds
/// none).</param>
/// <param name="Skipped">Records with every candidate linked down to the guidance floor: no twin.</param>
/// <param name="FinalGuidanceSum">Sum of the guidance each twinned record ended at (for the mean).</param>
/// <param name="LowestFinalGuidance">The lowest guidance any record needed (the start value when none backed
/// off).</param>
public sealed record TwinStatistics(
    int Records,
    int Twins,
    int Extras,
    int CandidatesDrawn,
    int RejectedLinked,
    int Retries,
    int Skipped,
    double FinalGuidanceSum,
    double LowestFinalGuidance
)
{
    public static TwinStatistics Empty(double startGuidance) => new(0, 0, 0, 0, 0, 0, 0, 0, startGuidance);

    public double MeanFinalGuidance => Twins == 0 ? double.NaN : FinalGuidanceSum / Twins;

    public TwinStatistics Add(TwinStatistics other) =>
        new(
            Records + other.Records,
            Twins + other.Twins,
            Extras + other.Extras,
            CandidatesDrawn + other.CandidatesDrawn,
            RejectedLinked + other.RejectedLinked,
            Retries + other.Retries,
            Skipped + other.Skipped,
            FinalGuidanceSum + other.FinalGuidanceSum,
            Math.Min(LowestFinalGuidance, other.LowestFinalGuidance)
        );
}
