namespace OrleansSynth.ML.Audit;

/// <summary>
/// The result of a privacy audit: aggregate numbers (shareable), and per synthetic sample its verdict with its nearest
/// real records (internal: it names real records, so it stays with the data holder).
/// </summary>
public sealed record AuditReport(AuditSummary Summary, AuditMetrics Metrics, IReadOnlyList<SampleVerdict> Samples)
{
    /// <summary>How reports are written and read as JSON: camelCase, indented, NaN and infinities by name.</summary>
    public static System.Text.Json.JsonSerializerOptions JsonOptions { get; } =
        new()
        {
            WriteIndented = true,
            PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
}

/// <param name="Total">Synthetic samples audited.</param>
/// <param name="Flagged">Samples judged copies of their nearest real training record: by the pair verifier (its logit
/// above
/// <paramref name="VerifierThreshold"/>) when the audit has one, else by the encoder's similarity above <paramref
/// name="Threshold"/>.</param>
/// <param name="Rate">Re-identification rate, Flagged / Total.</param>
/// <param name="Threshold">The encoder's calibrated similarity threshold (its own verdict, and the singling-out
/// predicate).</param>
/// <param name="Canaries">The audit's recall on its own planted near-copies of training records.</param>
/// <param name="VerifierThreshold">The pair verifier's calibrated logit threshold; null when the verdicts are the
/// encoder's.</param>
/// <param name="HeldOutNearCopies">Held-out images left out of calibration and control because they are near-copies of
/// a training record.</param>
public sealed record AuditSummary(
    int Total,
    int Flagged,
    double Rate,
    double RateLower,
    double RateUpper,
    float Threshold,
    double Alpha,
    double EncoderAuc,
    int CalibrationImages,
    int TrainingRecords,
    int ControlRecords,
    string Dataset,
    string Synthetic,
    CanaryRecall Canaries,
    float? VerifierThreshold = null,
    int HeldOutNearCopies = 0,
    LinkRule? Link = null
);

/// <param name="SyntheticNearestSimilarity">Nearest-training similarity of each synthetic sample.</param>
/// <param name="ControlNearestSimilarity">Nearest-training similarity of held-out real images (the null case).</param>
/// <param name="SyntheticDcr">Distance to closest record in embedding space, sqrt(2 - 2 cos).</param>
/// <param name="SyntheticNndr">Nearest / second-nearest distance ratio.</param>
/// <param name="SinglingOut">Anonymeter's singling-out risk, the threshold as predicate, on the whole training
/// set.</param>
/// <param name="HoldoutDistance">Whether samples are closer to training records than to holdout records of the same
/// number.</param>
/// <param name="ExactCopies">Samples pixel-identical to their nearest training record.</param>
/// <param name="NearExactCopies">Samples within the near-copy pixel tolerance of their nearest record (exact ones
/// included).</param>
public sealed record AuditMetrics(
    Distribution SyntheticNearestSimilarity,
    Distribution ControlNearestSimilarity,
    Distribution SyntheticDcr,
    Distribution ControlDcr,
    Distribution SyntheticNndr,
    Distribution ControlNndr,
    SinglingOutRisk SinglingOut,
    HoldoutDistanceResult HoldoutDistance,
    int ExactCopies,
    int NearExactCopies,
    double NearCopyTolerance
);

/// <summary>One synthetic sample's verdict. NearestRecordIds and Scores (encoder similarities) are the top-k, best
/// first; VerifierScore is the pair verifier's logit for the nearest.</summary>
public sealed record SampleVerdict(
    string File,
    bool Flagged,
    float Score,
    string NearestRecordId,
    IReadOnlyList<string> NearestRecordIds,
    IReadOnlyList<float> Scores,
    float? VerifierScore = null
);
