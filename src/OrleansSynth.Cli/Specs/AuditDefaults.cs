namespace OrleansSynth.Cli.Specs;

/// <summary>
/// The audit a user gets without asking, in run specs, <c>synth demo</c>'s default preset and <c>synth audit
/// submit</c>: the pair verifier makes the verdicts, at a false-flag rate of 2% on unseen real images. Measured on
/// Fashion-MNIST's planted compound near-copies (docs/lab-notebook.md, "A verifier that reaches the goal"); the grain
/// contracts keep their own, cheaper defaults for code that sets every field.
/// </summary>
internal static class AuditDefaults
{
    public const double Alpha = 0.02;
    public const int EncoderSteps = 1000;
    public const int Canaries = 200;

    /// <summary>Trained once per dataset and encoder, then cached on the silos: with the encoder, about 12 minutes on 2
    /// CPU cores the first time.</summary>
    public const int VerifierSteps = 14_000;
}
