using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Datasets;

namespace OrleansSynth.Grains.Pipeline;

public sealed partial class PipelineCoordinatorGrain(
    [PersistentState("pipeline", GrainStorageNames.Default)] IPersistentState<PipelineCoordinatorState> state,
    ComputeWorker compute, IArtifactStore artifacts, DatasetCache datasets,
    ILogger<PipelineCoordinatorGrain> logger) : LongRunningGrain, IPipelineCoordinatorGrain
{
    public async Task Configure(PipelinePolicy policy)
    {
        if (policy.MinimumSamples < 0) throw new ArgumentOutOfRangeException(nameof(policy), "MinimumSamples must not be negative.");
        if (policy.MinimumCanaryRecall is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(policy), "MinimumCanaryRecall must be between 0 and 1.");
        if (policy.StudentFlaggedRateCeiling is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(policy), "StudentFlaggedRateCeiling must be in (0, 1].");
        state.State.Policy = policy;
        await WriteOneAtATimeAsync(state);
    }

    public async Task AttachAudit(string auditId, IReadOnlyList<string> sampleIds, IReadOnlyList<ArtifactRef> bundles)
    {
        state.State.AuditId = auditId;
        state.State.SampleIds = [.. sampleIds];
        state.State.Bundles = [.. bundles];
        state.State.Filtered = null;
        await WriteOneAtATimeAsync(state);
    }

    public async Task<FilteredSet> ApplyFilter()
    {
        var audit = await AuditStatus();
        if (audit.State != WorkState.Completed)
            throw new InvalidOperationException($"The audit has not finished ({audit.TilesDone} of {audit.TilesTotal} tiles); nothing can be filtered yet.");
        var flagged = audit.FlaggedSampleIds.ToHashSet(StringComparer.Ordinal);
        var filtered = new FilteredSet(
            state.State.SampleIds.Where(id => !flagged.Contains(id)).ToList(),
            state.State.SampleIds.Where(flagged.Contains).ToList());
        state.State.Filtered = filtered;
        await WriteOneAtATimeAsync(state);
        LogFiltered(this.GetPrimaryKeyString(), filtered.KeptSampleIds.Count, filtered.RemovedSampleIds.Count);
        return filtered;
    }

    public async Task Approve(string approvedBy)
    {
        if (string.IsNullOrWhiteSpace(approvedBy)) throw new ArgumentException("An approval must name who approves.", nameof(approvedBy));
        state.State.ApprovedBy = approvedBy;
        state.State.ApprovedAt = DateTimeOffset.UtcNow;
        await WriteOneAtATimeAsync(state);
        _approved.TrySetResult();
    }

    public async Task<GateDecision> RequestDistillation(string requestedBy)
    {
        var audit = state.State.AuditId is null ? null : await AuditStatus();
        var flagged = audit?.FlaggedSampleIds.ToHashSet(StringComparer.Ordinal) ?? [];
        var kept = state.State.Filtered?.KeptSampleIds ?? state.State.SampleIds;
        var evidence = new GateEvidence(
            TilesTotal: audit?.TilesTotal ?? 0,
            TilesDone: audit?.TilesDone ?? 0,
            FlaggedSamples: flagged.Count,
            FlaggedRemaining: audit?.State == WorkState.Completed ? kept.Count(flagged.Contains) : flagged.Count,
            SamplesRemaining: kept.Count,
            MinimumSamples: state.State.Policy.MinimumSamples,
            ApprovalRequired: state.State.Policy.RequireApproval,
            ApprovedBy: state.State.ApprovedBy,
            CanariesPlanted: audit?.Summary?.CanariesPlanted ?? 0,
            CanaryRecall: audit?.Summary?.CanaryRecall ?? 0,
            MinimumCanaryRecall: state.State.Policy.MinimumCanaryRecall);
        var reasons = DistillationGate.Refusals(evidence);
        var decision = new GateDecision(reasons.Count == 0, reasons, evidence, DateTimeOffset.UtcNow, requestedBy);
        state.State.Decisions.Add(decision);
        await WriteOneAtATimeAsync(state);
        LogDecision(this.GetPrimaryKeyString(), decision.Open, string.Join("; ", reasons));
        return decision;
    }

    public async Task<TrainingStatus> StartStudent(string runId, TrainingRunSpec template, string requestedBy)
    {
        var decision = await RequestDistillation(requestedBy);
        if (!decision.Open)
            throw new InvalidOperationException($"Distillation refused: {string.Join("; ", decision.Reasons)}.");
        var kept = state.State.Filtered!.KeptSampleIds;
        var spec = template with
        {
            Dataset = "",
            Kind = TrainingKind.Diffusion,
            Synthetic = new SyntheticTrainingSet(state.State.Bundles, kept),
        };
        state.State.StudentRunId = runId;
        await WriteOneAtATimeAsync(state);
        LogStudent(this.GetPrimaryKeyString(), runId, kept.Count);
        return await GrainFactory.GetGrain<ITrainingRunGrain>(runId).Start(spec);
    }

    public Task<ArtifactRef?> GetInternalReport() => Task.FromResult(state.State.InternalReport);

    public Task<IReadOnlyList<GateDecision>> GetDecisions() => Task.FromResult<IReadOnlyList<GateDecision>>(state.State.Decisions.ToList());

    private Task<AuditStatus> AuditStatus() =>
        GrainFactory.GetGrain<IPrivacyAuditGrain>(state.State.AuditId ?? throw new InvalidOperationException("No audit is attached to this pipeline run.")).GetStatus();

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: filter kept {Kept}, removed {Removed}")]
    private partial void LogFiltered(string run, int kept, int removed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: student {Student} trains on {Count} filtered synthetic samples")]
    private partial void LogStudent(string run, string student, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: distillation gate open={Open} {Reasons}")]
    private partial void LogDecision(string run, bool open, string reasons);
}
