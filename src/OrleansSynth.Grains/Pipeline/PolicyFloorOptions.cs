namespace OrleansSynth.Grains.Pipeline;

/// <summary>
/// The operator's floor under every run's gate and audit (configuration section OrleansSynth:PolicyFloor). A run spec
/// may be stricter, never weaker: a weaker one is refused at submission, naming the key and the floor.
/// </summary>
public sealed class PolicyFloorOptions
{
    /// <summary>The least share of its planted near-copies an audit must flag (gate.minimumCanaryRecall).</summary>
    public double MinimumCanaryRecall { get; set; } = 0.95;

    /// <summary>The highest ceiling a spec may set on the student's flagged rate
    /// (gate.studentFlaggedRateCeiling).</summary>
    public double StudentFlaggedRateCeiling { get; set; } = 0.05;

    /// <summary>Whether every run needs a person's approval (gate.requireApproval).</summary>
    public bool RequireApproval { get; set; }

    /// <summary>
    /// The least alpha (audit.alpha): the share of unseen real images the calibrated threshold flags. A smaller alpha
    /// sets a higher threshold, which lets closer copies through.
    /// </summary>
    public double Alpha { get; set; } = 0.01;

    /// <summary>The least near-copies an audit plants to measure its recall (audit.canaries).</summary>
    public int Canaries { get; set; } = 100;

    /// <summary>The least training steps of the audit's encoder (audit.encoderSteps).</summary>
    public int EncoderSteps { get; set; }

    /// <summary>The least training steps of the audit's pair verifier (audit.verifierSteps).</summary>
    public int VerifierSteps { get; set; }
}
