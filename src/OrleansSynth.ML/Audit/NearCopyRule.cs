namespace OrleansSynth.ML.Audit;

/// <summary>
/// The audit's copy test by pixels: a sample within a mean absolute pixel difference of its nearest training record is
/// flagged whatever the scores say. A fixed tolerance is no copy test on sparse images (digits on a black background:
/// distinct people's images lie within 2% of each other), so the tolerance is calibrated like the thresholds: it
/// shrinks below its ceiling until at most a share of alpha of the held-out images fall within it. Those held-out
/// images are then left out of the thresholds' calibration, and the flags they stand for are counted against alpha.
/// </summary>
public static class NearCopyRule
{
    /// <param name="heldOutDifferences">Each held-out image's mean absolute pixel difference (fraction of full scale)
    /// to its nearest training record.</param>
    /// <param name="ceiling">The largest tolerance allowed (<see cref="AuditSettings.NearCopyTolerance"/>).</param>
    /// <param name="alpha">The audit's target false-flag rate.</param>
    /// <param name="share">The share of alpha the rule may spend (<see cref="AuditSettings.NearCopyShare"/>).</param>
    /// <returns>The tolerance: a difference at or below it is a copy. Never below 0, so exact copies always
    /// are.</returns>
    public static double Calibrate(IReadOnlyList<double> heldOutDifferences, double ceiling, double alpha, double share)
    {
        if (share is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(share), "The near-copy share must be between 0 and 1.");
        var sorted = heldOutDifferences.Order().ToArray();
        var allowed = (int)Math.Floor(alpha * share * sorted.Length);
        if (allowed >= sorted.Length || sorted[allowed] > ceiling)
            return ceiling;
        // Just below the first difference past the allowance, so exactly the allowed ones (and ties below) are within.
        var tolerance = allowed == 0 ? sorted[0] / 2 : (sorted[allowed - 1] + sorted[allowed]) / 2;
        return Math.Max(0, Math.Min(tolerance, Math.BitDecrement(sorted[allowed])));
    }
}
