namespace OrleansSynth.Abstractions;

/// <summary>A cluster audit: every sample in the bundles against every training record of the dataset.</summary>
/// <param name="VerifierSteps">Training steps of the pair verifier that then makes the verdicts; 0: the encoder's link
/// rule decides.</param>
/// <param name="VerifierBatch">Pairs per pair-verifier training step.</param>
/// <param name="VerifierLookAlikes">How many of each record's nearest other records the verifier's negatives are drawn
/// among.</param>
[GenerateSerializer, Immutable]
public sealed record AuditSpec(
    [property: Id(0)] string Dataset,
    [property: Id(1)] IReadOnlyList<ArtifactRef> SampleBundles,
    [property: Id(2)] double Alpha = 0.01,
    [property: Id(3)] int TopK = 5,
    [property: Id(4)] int SyntheticTile = 1024,
    [property: Id(5)] int RealTile = 8192,
    [property: Id(6)] int EncoderSteps = PipelineSpec.DefaultEncoderSteps,
    [property: Id(7)] int Canaries = 200,
    [property: Id(8)] int VerifierSteps = 0,
    [property: Id(9)] int VerifierBatch = PipelineSpec.DefaultVerifierBatch,
    [property: Id(10)] int VerifierLookAlikes = PipelineSpec.DefaultVerifierLookAlikes
)
{
    /// <summary>This spec as meant, for one from before its verifier keys existed (see <see
    /// cref="PipelineSpec.WithMissingKeysDefaulted"/>).</summary>
    public AuditSpec WithMissingKeysDefaulted() =>
        this with
        {
            VerifierBatch = VerifierBatch == 0 ? PipelineSpec.DefaultVerifierBatch : VerifierBatch,
            VerifierLookAlikes = VerifierLookAlikes == 0 ? PipelineSpec.DefaultVerifierLookAlikes : VerifierLookAlikes,
        };
}

/// <summary>One tile of the scan: a block of synthetic rows against a block of real records.</summary>
[GenerateSerializer, Immutable]
public sealed record AuditTileSpec(
    [property: Id(0)] string AuditId,
    [property: Id(1)] ArtifactRef SyntheticEmbeddings,
    [property: Id(2)] ArtifactRef RealEmbeddings,
    [property: Id(3)] int SyntheticStart,
    [property: Id(4)] int SyntheticCount,
    [property: Id(5)] int RealStart,
    [property: Id(6)] int RealCount,
    [property: Id(7)] int TopK
);

[GenerateSerializer, Immutable]
public sealed record AuditTileResult(
    [property: Id(0)] AuditTileSpec Tile,
    [property: Id(1)] ArtifactRef Matches,
    [property: Id(2)] string Silo
);

/// <summary>The aggregate numbers of an audit, safe to share.</summary>
/// <param name="RateUpper">Upper end of the 95% interval of the flagged rate.</param>
/// <param name="CanaryRecall">Share of the audit's planted near-copies of training records that it flagged.</param>
[GenerateSerializer, Immutable]
public sealed record AuditSummaryView(
    [property: Id(0)] int Total,
    [property: Id(1)] int Flagged,
    [property: Id(2)] double Rate,
    [property: Id(3)] float Threshold,
    [property: Id(4)] double Alpha,
    [property: Id(5)] double EncoderAuc,
    [property: Id(6)] double SinglingOutRisk,
    [property: Id(7)] double RateUpper,
    [property: Id(8)] int CanariesPlanted,
    [property: Id(9)] int CanariesCaught,
    [property: Id(10)] double CanaryRecall,
    [property: Id(11)] float? VerifierThreshold = null
);

/// <param name="Preparation">The training of the audit's models before any tile is planned (the encoder's, then the
/// pair verifier's), as this activation saw it; null when both came from the cache.</param>
[GenerateSerializer, Immutable]
public sealed record AuditStatus(
    [property: Id(0)] WorkState State,
    [property: Id(1)] int TilesTotal,
    [property: Id(2)] int TilesDone,
    [property: Id(3)] AuditSummaryView? Summary,
    [property: Id(4)] ArtifactRef? Report,
    [property: Id(5)] IReadOnlyList<string> FlaggedSampleIds,
    [property: Id(6)] string? Error,
    [property: Id(7)] WorkProgress? Preparation = null
);
