using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Datasets;
using OrleansSynth.Grains.Placement;
using OrleansSynth.Grains.Security;

namespace OrleansSynth.Grains.Pipeline;

// Placed like training: the report trains nothing but runs the classifier over the real test split and the samples.
[PreferGpuSilos]
public sealed partial class PipelineCoordinatorGrain(
    [PersistentState("pipeline", GrainStorageNames.Default)] IPersistentState<PipelineCoordinatorState> state,
    ComputeWorker compute,
    IArtifactStore artifacts,
    DatasetCache datasets,
    Telemetry.PipelineMetrics metrics,
    IOptions<PolicyFloorOptions> floor,
    IOptions<ClusterLimitsOptions> limits,
    DataRoots roots,
    ILogger<PipelineCoordinatorGrain> logger
) : LongRunningGrain, IPipelineCoordinatorGrain
{
    /// <summary>An operator's policy for this run: the operator is trusted with it, and it is recorded as
    /// theirs.</summary>
    public async Task Configure(PipelinePolicy policy)
    {
        if (policy.MinimumSamples < 0)
            throw new ArgumentOutOfRangeException(nameof(policy), "MinimumSamples must not be negative.");
        if (policy.MinimumCanaryRecall is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(policy), "MinimumCanaryRecall must be between 0 and 1.");
        if (policy.StudentFlaggedRateCeiling is <= 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(policy), "StudentFlaggedRateCeiling must be in (0, 1].");
        state.State.Policy = policy;
        state.State.PolicySetBy = CallerPrincipal.Current?.ToString() ?? "the cluster";
        state.State.PolicySetByRole = CallerPrincipal.Current is null ? "the cluster" : "an operator";
        await WriteOneAtATimeAsync(state);
    }

    public Task AttachAudit(string auditId, IReadOnlyList<string> sampleIds, IReadOnlyList<ArtifactRef> bundles) =>
        AttachAuditAsync(auditId, sampleIds, bundles);

    private async Task AttachAuditAsync(
        string auditId,
        IReadOnlyList<string> sampleIds,
        IReadOnlyList<ArtifactRef> bundles
    )
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
            throw new InvalidOperationException(
                $"The audit has not finished ({audit.TilesDone} of {audit.TilesTotal} tiles); nothing can be "
                    + $"filtered yet."
            );
        var flagged = audit.FlaggedSampleIds.ToHashSet(StringComparer.Ordinal);
        var filtered = new FilteredSet(
            state.State.SampleIds.Where(id => !flagged.Contains(id)).ToList(),
            state.State.SampleIds.Where(flagged.Contains).ToList()
        );
        state.State.Filtered = filtered;
        await WriteOneAtATimeAsync(state);
        LogFiltered(this.GetPrimaryKeyString(), filtered.KeptSampleIds.Count, filtered.RemovedSampleIds.Count);
        return filtered;
    }

    public async Task Approve(string? note)
    {
        // The approval is the principal's who made it, as the call filter established it; a client cannot name another.
        var approvedBy = CallerPrincipal.Current?.ToString()
            ?? throw new AccessRefusedException("An approval needs a client's principal.");
        if (note is { Length: > 1000 })
            throw new ArgumentException("An approval note is at most 1,000 characters.", nameof(note));
        if (state.State.PipelineState is WorkState.Cancelled or WorkState.Failed or WorkState.Refused)
            throw new InvalidOperationException(
                $"Run {this.GetPrimaryKeyString()} is {state.State.PipelineState.ToString().ToLowerInvariant()}; "
                    + $"there is nothing to approve."
            );
        state.State.ApprovedBy = approvedBy;
        state.State.ApprovalNote = note;
        state.State.ApprovedAt = DateTimeOffset.UtcNow;
        await WriteOneAtATimeAsync(state);
        LogApproved(this.GetPrimaryKeyString(), approvedBy, note ?? "");
        _approved.TrySetResult();
    }

    public async Task<PipelineStatus> Cancel()
    {
        var run = this.GetPrimaryKeyString();
        await CancelIfRunningAsync(
            IsRunning,
            () => (state.State.PipelineState, state.State.Error) = (WorkState.Cancelled, "cancelled by an operator"),
            () => WriteOneAtATimeAsync(state)
        );
        // Every piece of the run's work stops, on whichever silo it runs; finished ones ignore it.
        await Task.WhenAll(
            RunGrainIds
                .TrainingRuns(run)
                .Select(id => GrainFactory.GetGrain<ITrainingRunGrain>(id).Cancel())
                .Concat(
                    RunGrainIds.SamplingJobs(run).Select(id => GrainFactory.GetGrain<ISamplingJobGrain>(id).Cancel())
                )
                .Concat(RunGrainIds.Audits(run).Select(id => GrainFactory.GetGrain<IPrivacyAuditGrain>(id).Cancel()))
        );
        _approved.TrySetCanceled();
        metrics.Ended(run);
        LogCancelled(run);
        return PipelineSnapshot();
    }

    public async Task<IReadOnlyList<WorkProgress>> GetProgress()
    {
        var run = this.GetPrimaryKeyString();
        DemandOwner();
        var training = RunGrainIds
            .TrainingRuns(run)
            .Select(async id =>
            {
                var s = await GrainFactory.GetGrain<ITrainingRunGrain>(id).GetStatus();
                return new[] { new WorkProgress(id, s.State, s.Step, s.TotalSteps, "steps") };
            });
        var sampling = RunGrainIds
            .SamplingJobs(run)
            .Select(async id =>
            {
                var s = await GrainFactory.GetGrain<ISamplingJobGrain>(id).GetStatus();
                return WithPreparation(
                    s.Preparation,
                    new WorkProgress(id, s.State, s.ShardsDone, s.ShardsTotal, "shards")
                );
            });
        var audits = RunGrainIds
            .Audits(run)
            .Select(async id =>
            {
                var s = await GrainFactory.GetGrain<IPrivacyAuditGrain>(id).GetStatus();
                return WithPreparation(
                    s.Preparation,
                    new WorkProgress(id, s.State, s.TilesDone, s.TilesTotal, "tiles")
                );
            });
        var all = (await Task.WhenAll(training.Concat(sampling).Concat(audits))).SelectMany(p => p);
        return all.Where(p => p.State != WorkState.NotStarted).ToList();
    }

    /// <summary>A job's progress, after that of the model it trained first, if any: otherwise a first audit reads 0/0
    /// tiles for half an hour.</summary>
    private static WorkProgress[] WithPreparation(WorkProgress? preparation, WorkProgress work) =>
        preparation is null ? [work] : [preparation, work];

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
            MinimumCanaryRecall: state.State.Policy.MinimumCanaryRecall
        );
        var reasons = DistillationGate.Refusals(evidence);
        var decision = new GateDecision(reasons.Count == 0, reasons, evidence, DateTimeOffset.UtcNow, requestedBy);
        state.State.Decisions.Add(decision);
        // The latest decisions: a run waiting for approval asks again on every approval, and the list must not grow
        // without end.
        var excess = state.State.Decisions.Count - limits.Value.MaxDecisions;
        if (excess > 0)
            state.State.Decisions.RemoveRange(0, excess);
        await WriteOneAtATimeAsync(state);
        metrics.Gate(this.GetPrimaryKeyString(), decision.Open);
        LogDecision(
            this.GetPrimaryKeyString(),
            state.State.Spec is { } spec ? GateStage(spec) : DistillationGateStage,
            decision.Open,
            string.Join("; ", reasons)
        );
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

    public Task<ReleaseManifest?> GetRelease()
    {
        DemandOwner();
        return Task.FromResult(state.State.Release);
    }

    public async Task<byte[]> ReadReleaseFile(string path, long offset, int count)
    {
        DemandOwner();
        // Only files of the release: the store holds real data too, and a client must not name its way to it.
        var file = state.State.Release?.Files.FirstOrDefault(f => f.Path == path)
            ?? throw new ArgumentException(
                $"Run {this.GetPrimaryKeyString()} has no released file '{path}'.",
                nameof(path)
            );
        return await artifacts.ReadChunkAsync(file.Artifact, offset, count);
    }

    public Task<ArtifactRef?> GetInternalReport() => Task.FromResult(state.State.InternalReport);

    public async Task<byte[]> ReadInternalReport(long offset, int count)
    {
        return await artifacts.ReadChunkAsync(
            state.State.InternalReport
                ?? throw new InvalidOperationException($"Run {this.GetPrimaryKeyString()} has no internal report yet."),
            offset,
            count
        );
    }

    public Task<IReadOnlyList<GateDecision>> GetDecisions()
    {
        DemandOwner();
        return Task.FromResult<IReadOnlyList<GateDecision>>(state.State.Decisions.ToList());
    }

    /// <summary>A submitter sees only the runs it submitted; operators and the cluster's own calls see every
    /// run.</summary>
    private void DemandOwner() =>
        CallerPrincipal.DemandOwnerOrOperator(state.State.Owner, $"Run {this.GetPrimaryKeyString()}");

    private Task<AuditStatus> AuditStatus() =>
        GrainFactory
            .GetGrain<IPrivacyAuditGrain>(
                state.State.AuditId ?? throw new InvalidOperationException("No audit is attached to this pipeline run.")
            )
            .GetStatus();

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: approved by {By} {Note}")]
    private partial void LogApproved(string run, string by, string note);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pipeline {Run}: cancelled by an operator")]
    private partial void LogCancelled(string run);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: filter kept {Kept}, removed {Removed}")]
    private partial void LogFiltered(string run, int kept, int removed);

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Pipeline {Run}: student {Student} trains on {Count} filtered synthetic samples"
    )]
    private partial void LogStudent(string run, string student, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: {Gate} open={Open} {Reasons}")]
    private partial void LogDecision(string run, string gate, bool open, string reasons);
}
