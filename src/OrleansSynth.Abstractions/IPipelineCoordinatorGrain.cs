namespace OrleansSynth.Abstractions;

/// <summary>
/// One per pipeline run: owns the run's stages and gates distillation on the audit. Every gate decision is
/// stored with its evidence, its time and who asked.
/// </summary>
public interface IPipelineCoordinatorGrain : IGrainWithStringKey
{
    Task Configure(PipelinePolicy policy);

    /// <summary>The synthetic samples of the run and the audit that scans them.</summary>
    Task AttachAudit(string auditId, IReadOnlyList<string> sampleIds);

    /// <summary>Removes every sample the audit flagged. Refused until the audit has finished.</summary>
    Task<FilteredSet> ApplyFilter();

    Task Approve(string approvedBy);

    /// <summary>Asks whether the student may be trained now; the answer is recorded.</summary>
    Task<GateDecision> RequestDistillation(string requestedBy);

    [AlwaysInterleave]
    Task<IReadOnlyList<GateDecision>> GetDecisions();
}
