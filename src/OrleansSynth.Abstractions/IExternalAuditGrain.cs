namespace OrleansSynth.Abstractions;

/// <summary>
/// Audit as a service: a folder of synthetic images made elsewhere, audited against a registered real dataset by the
/// cluster's audit (canaries included), keyed by the audit's name. The shareable report holds aggregate numbers only;
/// the internal one (each sample's nearest real records) needs the operator role.
/// </summary>
public interface IExternalAuditGrain : IGrainWithStringKey
{
    /// <summary>Starts the audit; the same spec again returns its status, another spec under the same name is
    /// refused.</summary>
    [ClientCall(ClientRole.Operator)]
    Task<ExternalAuditStatus> Submit(ExternalAuditSpec spec);

    [AlwaysInterleave]
    [ClientCall(ClientRole.Operator)]
    Task<ExternalAuditStatus> GetStatus();

    /// <summary>A chunk (at most <see cref="ReleaseManifest.MaxChunk"/> bytes) of the shareable report: summary and
    /// aggregate metrics.</summary>
    [AlwaysInterleave]
    [ClientCall(ClientRole.Operator)]
    Task<byte[]> ReadReport(long offset, int count);

    /// <summary>A chunk of the internal report: every sample's verdict with its nearest real records. Needs the
    /// operator role.</summary>
    [AlwaysInterleave]
    [ClientCall(ClientRole.Operator)]
    Task<byte[]> ReadInternalReport(long offset, int count);
}

/// <param name="SyntheticFolder">A folder of PNG images the silos can read.</param>
/// <param name="VerifierSteps">Training steps of the pair verifier that then makes the verdicts (trained once per
/// dataset and cached); 0: the encoder's link rule decides.</param>
[GenerateSerializer, Immutable]
public sealed record ExternalAuditSpec(
    [property: Id(0)] string Dataset,
    [property: Id(1)] string SyntheticFolder,
    [property: Id(2)] double Alpha = 0.01,
    [property: Id(3)] int EncoderSteps = PipelineSpec.DefaultEncoderSteps,
    [property: Id(4)] int Canaries = 200,
    [property: Id(5)] int VerifierSteps = 0
);

[GenerateSerializer, Immutable]
public sealed record ExternalAuditStatus(
    [property: Id(0)] WorkState State,
    [property: Id(1)] int Images,
    [property: Id(2)] int TilesDone,
    [property: Id(3)] int TilesTotal,
    [property: Id(4)] AuditSummaryView? Summary,
    [property: Id(5)] ArtifactRef? Report,
    [property: Id(6)] ArtifactRef? InternalReport,
    [property: Id(7)] string? Error
);
