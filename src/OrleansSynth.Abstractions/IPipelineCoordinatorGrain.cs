namespace OrleansSynth.Abstractions;

/// <summary>
/// One per pipeline run: owns the run's stages and gates distillation on the audit. Every gate decision is
/// stored with its evidence, its time and who asked.
/// </summary>
public interface IPipelineCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Runs the whole pipeline in the background; returns at once. Calling it again returns the status.</summary>
    Task<PipelineStatus> Run(PipelineSpec spec);

    [AlwaysInterleave]
    Task<PipelineStatus> GetPipelineStatus();

    /// <summary>
    /// A run that failed with an error continues from its last finished stage: its failed stage grains run again, the
    /// finished ones are not repeated. A refused, running or finished run is left as it is. Returns the status.
    /// </summary>
    Task<PipelineStatus> Retry();

    Task Configure(PipelinePolicy policy);

    /// <summary>The synthetic samples of the run (ids and the bundles holding them) and the audit that scans them.</summary>
    Task AttachAudit(string auditId, IReadOnlyList<string> sampleIds, IReadOnlyList<ArtifactRef> bundles);

    /// <summary>Removes every sample the audit flagged. Refused until the audit has finished.</summary>
    Task<FilteredSet> ApplyFilter();

    Task Approve(string approvedBy);

    /// <summary>Asks whether the student may be trained now; the answer is recorded.</summary>
    Task<GateDecision> RequestDistillation(string requestedBy);

    /// <summary>
    /// Starts the student: a diffusion run on the filtered synthetic samples only. The gate is asked first (and the
    /// decision recorded); a closed gate refuses with its reasons.
    /// </summary>
    Task<TrainingStatus> StartStudent(string runId, TrainingRunSpec template, string requestedBy);

    [AlwaysInterleave]
    Task<IReadOnlyList<GateDecision>> GetDecisions();

    /// <summary>
    /// The internal report of a finished run, in the artifact store: which released file is which internal sample and
    /// real source record, and each released sample's nearest real records. Never part of the release; null until written.
    /// </summary>
    [AlwaysInterleave]
    Task<ArtifactRef?> GetInternalReport();
}
