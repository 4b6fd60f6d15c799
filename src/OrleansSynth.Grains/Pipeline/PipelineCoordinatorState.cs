using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Pipeline;

[GenerateSerializer]
public sealed class PipelineCoordinatorState
{
    [Id(0)]
    public PipelinePolicy Policy { get; set; } = new(MinimumSamples: 1, RequireApproval: false);

    [Id(1)]
    public string? AuditId { get; set; }

    [Id(2)]
    public List<string> SampleIds { get; set; } = [];

    [Id(3)]
    public FilteredSet? Filtered { get; set; }

    [Id(4)]
    public string? ApprovedBy { get; set; }

    [Id(5)]
    public DateTimeOffset? ApprovedAt { get; set; }

    [Id(6)]
    public List<GateDecision> Decisions { get; set; } = [];

    [Id(7)]
    public List<ArtifactRef> Bundles { get; set; } = [];

    [Id(8)]
    public string? StudentRunId { get; set; }

    [Id(9)]
    public PipelineSpec? Spec { get; set; }

    [Id(10)]
    public WorkState PipelineState { get; set; }

    [Id(11)]
    public List<StageStatus> Stages { get; set; } = [];

    [Id(12)]
    public string? ReportFile { get; set; }

    [Id(13)]
    public string? Error { get; set; }

    [Id(14)]
    public ArtifactRef? InternalReport { get; set; }

    [Id(15)]
    public ReleaseManifest? Release { get; set; }

    [Id(16)]
    public string? ApprovalNote { get; set; }

    /// <summary>The principal that submitted the run; a submitter sees only its own runs.</summary>
    [Id(17)]
    public string? Owner { get; set; }

    /// <summary>Who set the effective policy: the submitter (at or above the floor) or an operator.</summary>
    [Id(18)]
    public string? PolicySetBy { get; set; }

    /// <summary><see cref="PolicySetBy"/> by role only, for the shareable report (it names no person).</summary>
    [Id(19)]
    public string? PolicySetByRole { get; set; }
}
