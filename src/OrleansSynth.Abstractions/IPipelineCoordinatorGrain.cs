namespace OrleansSynth.Abstractions;

/// <summary>
/// One per pipeline run: owns the run's stages and gates distillation on the audit. Every gate decision is
/// stored with its evidence, its time and who asked. Operator actions (approve, cancel, policy, attaching an audit,
/// reading the internal report) need the operator role; the cluster's call filter refuses them to other clients and
/// logs it.
/// </summary>
public interface IPipelineCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Runs the whole pipeline in the background; returns at once. Calling it again returns the
    /// status.</summary>
    Task<PipelineStatus> Run(PipelineSpec spec);

    [AlwaysInterleave]
    [ClientCall(ClientRole.Submitter)]
    Task<PipelineStatus> GetPipelineStatus();

    /// <summary>How far each started piece of work of the run has come (training steps, shards, tiles): counts
    /// only.</summary>
    [AlwaysInterleave]
    [ClientCall(ClientRole.Submitter)]
    Task<IReadOnlyList<WorkProgress>> GetProgress();

    /// <summary>
    /// A run that failed with an error continues from its last finished stage: its failed stage grains run again, the
    /// finished ones are not repeated. A refused, cancelled, running or finished run is left as it is. Returns the
    /// status.
    /// </summary>
    [ClientCall(ClientRole.Submitter)]
    Task<PipelineStatus> Retry();

    /// <summary>Stops the run and all its work on every silo; finished artifacts are kept and nothing is
    /// released.</summary>
    [AlwaysInterleave]
    [ClientCall(ClientRole.Operator)]
    Task<PipelineStatus> Cancel();

    [ClientCall(ClientRole.Operator)]
    Task Configure(PipelinePolicy policy);

    /// <summary>The synthetic samples of the run (ids and the bundles holding them) and the audit that scans
    /// them.</summary>
    [ClientCall(ClientRole.Operator)]
    Task AttachAudit(string auditId, IReadOnlyList<string> sampleIds, IReadOnlyList<ArtifactRef> bundles);

    /// <summary>Removes every sample the audit flagged. Refused until the audit has finished.</summary>
    Task<FilteredSet> ApplyFilter();

    [AlwaysInterleave]
    [ClientCall(ClientRole.Operator)]
    Task Approve(string? note);

    /// <summary>Asks whether the student may be trained now; the answer is recorded.</summary>
    Task<GateDecision> RequestDistillation(string requestedBy);

    /// <summary>
    /// Starts the student: a diffusion run on the filtered synthetic samples only. The gate is asked first (and the
    /// decision recorded); a closed gate refuses with its reasons.
    /// </summary>
    Task<TrainingStatus> StartStudent(string runId, TrainingRunSpec template, string requestedBy);

    [AlwaysInterleave]
    [ClientCall(ClientRole.Submitter)]
    Task<IReadOnlyList<GateDecision>> GetDecisions();

    /// <summary>The shareable files of the finished run (its release, or the report alone when refused); null until
    /// written.</summary>
    [AlwaysInterleave]
    [ClientCall(ClientRole.Submitter)]
    Task<ReleaseManifest?> GetRelease();

    /// <summary>Up to <paramref name="count"/> bytes (at most <see cref="ReleaseManifest.MaxChunk"/>) of one file of
    /// the release, from <paramref name="offset"/>.</summary>
    [AlwaysInterleave]
    [ClientCall(ClientRole.Submitter)]
    Task<byte[]> ReadReleaseFile(string path, long offset, int count);

    /// <summary>
    /// The internal report of a finished run: which released file is which internal sample and real source record,
    /// and each released sample's nearest real records. Never part of the release; null until written.
    /// </summary>
    [AlwaysInterleave]
    [ClientCall(ClientRole.Operator)]
    Task<ArtifactRef?> GetInternalReport();

    /// <summary>A chunk of the internal report (see <see cref="ReadReleaseFile"/>); it names real records, so it needs
    /// the operator role.</summary>
    [AlwaysInterleave]
    [ClientCall(ClientRole.Operator)]
    Task<byte[]> ReadInternalReport(long offset, int count);
}
