namespace OrleansSynth.ML.Audit;

public sealed record AuditSettings
{
    /// <summary>Nearest real records kept per synthetic sample.</summary>
    public int TopK { get; init; } = 5;

    /// <summary>Nearest records (the nearest included) the link rule's contrast compares the nearest with.</summary>
    public int LinkNeighbours { get; init; } = 3;

    /// <summary>Target false-flag rate on unseen people, used when calibrating.</summary>
    public double Alpha { get; init; } = 0.01;

    /// <summary>Largest mean absolute pixel difference (fraction of full scale) under which a sample counts as a
    /// near-exact copy; the audit lowers it where held-out images come that close (<see cref="NearCopyRule"/>).
    /// </summary>
    public double NearCopyTolerance { get; init; } = 0.02;

    /// <summary>Share of alpha the near-copy rule may spend on held-out images (<see cref="NearCopyRule"/>).</summary>
    public double NearCopyShare { get; init; } = 0.25;

    /// <summary>Canaries planted in every scan to measure the audit's own recall.</summary>
    public int Canaries { get; init; } = 200;

    /// <summary>Which training records the canaries copy, and how they are changed.</summary>
    public ulong CanarySeed { get; init; } = 43;
    public int SyntheticTile { get; init; } = PairwiseScan.DefaultSyntheticTile;
    public int RealTile { get; init; } = PairwiseScan.DefaultRealTile;

    /// <summary>The pair verifier that makes the verdicts; null: the default shape, trained for <see
    /// cref="VerifierStepsPerEncoderStep"/> x the encoder's steps.</summary>
    public PairVerifierConfig? Verifier { get; init; }

    // Off by default until it is measured on the whole dataset: at few steps it missed memorised samples the encoder
    // flags.
    public double VerifierStepsPerEncoderStep { get; init; } = 0;

    /// <summary>The verifier to use with an encoder trained for <paramref name="encoderSteps"/>; 0 steps: none,
    /// verdicts by the encoder alone.</summary>
    public PairVerifierConfig VerifierFor(int encoderSteps) =>
        Verifier ?? new PairVerifierConfig { Steps = (int)(encoderSteps * VerifierStepsPerEncoderStep) };
}
