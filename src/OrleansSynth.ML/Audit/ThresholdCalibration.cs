namespace OrleansSynth.ML.Audit;

/// <summary>The similarity above which a match counts as a re-identification, and the evidence behind it.</summary>
/// <param name="Threshold">Flag when nearest-real similarity is strictly greater than this.</param>
/// <param name="Alpha">Target false-flag rate on people the model never saw.</param>
/// <param name="HeldOutCount">Held-out real images whose nearest-training similarity set the threshold.</param>
/// <param name="ReferenceCount">Training records they were compared against.</param>
/// <param name="HeldOutFlagged">Held-out images that the threshold still flags (at most Alpha x HeldOutCount).</param>
/// <param name="HeldOutCopiesLeftOut">Held-out images left out because the near-copy rule flags them; their flags
/// count against alpha.</param>
/// <param name="NearCopyTolerance">The near-copy rule's calibrated tolerance (<see cref="NearCopyRule"/>).</param>
public sealed record ThresholdCalibration(
    float Threshold,
    double Alpha,
    int HeldOutCount,
    int ReferenceCount,
    int HeldOutFlagged,
    int HeldOutCopiesLeftOut = 0,
    double NearCopyTolerance = 0
)
{
    /// <summary>
    /// Picks the smallest threshold that flags at most floor(alpha x (n + c)) - c of the n held-out maxima, c the
    /// held-out images the near-copy rule flags (left out of the scores): the rule and the threshold together flag at
    /// most alpha of all held-out images. Anything strictly above the threshold is flagged.
    /// </summary>
    public static ThresholdCalibration FromHeldOutScores(
        IReadOnlyList<float> heldOutNearestScores,
        double alpha,
        int referenceCount,
        int copiesLeftOut = 0,
        double nearCopyTolerance = 0
    )
    {
        if (alpha is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(alpha), "alpha must be strictly between 0 and 1.");
        var n = heldOutNearestScores.Count;
        if (n == 0)
            throw new ArgumentException("Calibration needs held-out images.");
        var sorted = heldOutNearestScores.OrderByDescending(s => s).ToArray();
        var allowed = Allowed(alpha, n, copiesLeftOut);
        var threshold = sorted[Math.Min(allowed, n - 1)];
        var flagged = sorted.Count(s => s > threshold);
        return new ThresholdCalibration(threshold, alpha, n, referenceCount, flagged, copiesLeftOut, nearCopyTolerance);
    }

    /// <summary>Flags a threshold may spend on <paramref name="n"/> held-out images when the near-copy rule already
    /// flags <paramref name="copiesLeftOut"/> others.</summary>
    public static int Allowed(double alpha, int n, int copiesLeftOut) =>
        Math.Max(0, (int)Math.Floor(alpha * (n + copiesLeftOut)) - copiesLeftOut);
}
