using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Grains.Security;
using OrleansSynth.ML.Diversity;

namespace OrleansSynth.Grains.Pipeline;

/// <summary>
/// The pipeline driver: each stage starts an idempotent grain keyed by the run and waits for it, so after a silo
/// failure the driver simply runs again and fast-forwards through the stages that already finished.
/// </summary>
public sealed partial class PipelineCoordinatorGrain
{
    private TaskCompletionSource _approved = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _pipeline;

    protected override bool IsRunning => state.State.PipelineState == WorkState.Running;

    protected override bool IsWorking => _pipeline is { IsCompleted: false };

    protected override void ResumeWork() => _pipeline = DriveAsync();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A spec stored before a key existed is read as it was meant, before the run resumes from it.
        state.State.Spec = state.State.Spec?.WithMissingKeysDefaulted();
        KeepActiveWhile(() => IsRunning);
        if (state.State.ApprovedBy is not null)
            _approved.TrySetResult();
        if (IsRunning)
            ResumeWork();
        return Task.CompletedTask;
    }

    public async Task<PipelineStatus> Run(PipelineSpec spec)
    {
        spec = spec.WithMissingKeysDefaulted();
        if (state.State.Spec is not null)
        {
            DemandOwner();
            return PipelineSnapshot();
        }
        // The gate is the operator's: a spec may tighten it, never loosen it below the cluster's floor.
        SubmissionCheck.Demand(spec, floor.Value, limits.Value);
        roots.Demand(spec.Dataset, "the run's dataset");
        var submitter = CallerPrincipal.Current;
        state.State.Spec = spec;
        state.State.Owner = submitter?.Name;
        state.State.Policy = spec.Gate;
        state.State.PolicySetBy = submitter is null ? "the cluster" : $"{submitter}, at or above the cluster's floor";
        state.State.PolicySetByRole = submitter is null
            ? "the cluster"
            : $"the {submitter.Role.ToString().ToLowerInvariant()}, at or above the cluster's floor";
        state.State.PipelineState = WorkState.Running;
        await WriteOneAtATimeAsync(state);
        await KeepResumingAsync();
        _pipeline = DriveAsync();
        return PipelineSnapshot();
    }

    public Task<PipelineStatus> GetPipelineStatus()
    {
        DemandOwner();
        return Task.FromResult(PipelineSnapshot());
    }

    public async Task<PipelineStatus> Retry()
    {
        DemandOwner();
        if (state.State.PipelineState != WorkState.Failed)
            return PipelineSnapshot();
        var run = this.GetPrimaryKeyString();
        // Every stage grain of the run: the failed ones run again, the others answer as they are.
        foreach (var training in RunGrainIds.TrainingRuns(run))
            await GrainFactory.GetGrain<ITrainingRunGrain>(training).Retry();
        foreach (var job in RunGrainIds.SamplingJobs(run))
            await GrainFactory.GetGrain<ISamplingJobGrain>(job).Retry();
        foreach (var audit in RunGrainIds.Audits(run))
            await GrainFactory.GetGrain<IPrivacyAuditGrain>(audit).Retry();
        (state.State.PipelineState, state.State.Error) = (WorkState.Running, null);
        var failed = state.State.Stages.FindIndex(s => s.State == WorkState.Running);
        if (failed >= 0)
            state.State.Stages[failed] = state.State.Stages[failed] with { Detail = "retrying" };
        await WriteOneAtATimeAsync(state);
        LogRetry(run);
        await KeepResumingAsync();
        ResumeWork();
        return PipelineSnapshot();
    }

    /// <summary>
    /// The run's status as the caller may see it: a failure's text can name real files or records (a dataset error
    /// does), so a submitter reads that the run failed and where, and an operator reads why.
    /// </summary>
    private PipelineStatus PipelineSnapshot()
    {
        var s = state.State;
        if (CallerPrincipal.Current is not { Role: ClientRole.Submitter })
            return new(s.PipelineState, s.Stages.ToList(), s.ReportFile, s.Error, s.Policy, s.PolicySetBy);
        const string Withheld = "failed; the reason may name real records, so only an operator can read it";
        var stages = s
            .Stages.Select(stage => stage.State == WorkState.Failed ? stage with { Detail = Withheld } : stage)
            .ToList();
        var error = s.PipelineState == WorkState.Failed ? $"the run {Withheld}" : s.Error;
        return new(s.PipelineState, stages, s.ReportFile, error, s.Policy, s.PolicySetBy);
    }

    /// <summary>Runs the strategy's stages in order, then ends the run as the last gate decided.</summary>
    private async Task DriveAsync()
    {
        var run = new RunProgress(state.State.Spec!, this.GetPrimaryKeyString());
        try
        {
            foreach (var stage in StagesOf(run.Spec))
                await Stage(stage.Name, async () => (true, await stage.Run(run)));
            // A cancel that reached the run while its release was being written: nothing is published.
            if (state.State.PipelineState != WorkState.Running)
                throw new RunCancelledException();
            state.State.Release = run.Release;
            state.State.ReportFile = run.Release!.Released ? "report.html" : "report.json";
            (state.State.PipelineState, state.State.Error) =
                run.Refusals.Count == 0
                    ? (WorkState.Completed, null)
                    : (WorkState.Refused, "release refused: " + string.Join("; ", run.Refusals));
        }
        catch (Exception) when (state.State.PipelineState == WorkState.Cancelled)
        {
            // Cancel wrote the end state and stopped the reminder; whatever this stage was doing is dropped.
            LogStoppedByCancel(run.Id);
            return;
        }
        catch (Exception e) when (TransientFailures.IsSiloLoss(e))
        {
            LogInterrupted(run.Id, e.GetType().Name);
            // a stop, not a failure: the reminder or the next activation drives the run on from its finished stages
            return;
        }
        catch (GateRefusedException refused)
        {
            // A refusal is the gate doing its job: nothing is released, and it is not an error to retry.
            state.State.PipelineState = WorkState.Refused;
            state.State.Error = refused.Message;
            EndRunningStages(WorkState.Refused, "refused");
            LogRefused(run.Id, refused.Message);
        }
        catch (Exception e)
        {
            state.State.PipelineState = WorkState.Failed;
            state.State.Error = e.Message;
            EndRunningStages(WorkState.Failed, e.Message);
            LogPipelineFailed(e, run.Id);
        }
        await WriteOneAtATimeAsync(state);
        await StopResumingAsync();
        metrics.Pipeline(run.Id, state.State.PipelineState.ToString().ToLowerInvariant());
        metrics.Ended(run.Id, failed: state.State.PipelineState == WorkState.Failed);
    }

    /// <summary>
    /// Twins of <see cref="PipelineSpec.SampleCount"/> records of <paramref name="sources"/> (a synthetic set; all of
    /// them when the filter left fewer), or of the dataset's training records when null.
    /// </summary>
    /// <param name="trainingRecords">The dataset's training records: a preset's count on a smaller dataset twins every
    /// record once.</param>
    private static SamplingJobSpec TwinSampling(
        ArtifactRef checkpoint,
        ArtifactRef featureExtractor,
        PipelineSpec spec,
        long seed,
        int trainingRecords,
        SyntheticTrainingSet? sources
    ) =>
        new(
            checkpoint,
            Math.Min(spec.SampleCount, sources?.SampleIds.Count ?? trainingRecords),
            spec.ShardSize,
            seed,
            SamplerSteps: spec.SamplerSteps,
            Sampler: spec.Sampler,
            Twins: new TwinSamplingSpec(
                spec.Dataset,
                featureExtractor,
                spec.Diversity ?? new DiversityOptions(),
                spec.EncoderSteps,
                spec.Alpha,
                sources
            )
        );

    private static SamplingJobSpec PlainSampling(
        ArtifactRef checkpoint,
        PipelineSpec spec,
        IReadOnlyList<int>? classCounts,
        bool hasReports
    ) =>
        new(
            checkpoint,
            spec.SampleCount,
            spec.ShardSize,
            spec.Teacher.Seed,
            spec.Guidance,
            spec.SamplerSteps,
            classCounts,
            Sampler: spec.Sampler,
            // Only a dataset with reports trains models that read them; other jobs keep the spec they always had.
            PromptsFrom: hasReports ? spec.Dataset : null
        );

    /// <summary>Each shard's twin statistics, in shard order (empty for a plain sampling job).</summary>
    private static List<TwinStatistics> TwinShards(SamplingJobStatus job) =>
        job
            .Shards.OrderBy(s => s.ShardIndex)
            .Select(s => s.Twins)
            .OfType<TwinShardStatistics>()
            .Select(t => new TwinStatistics(
                t.Records,
                t.Twins,
                t.Extras,
                t.CandidatesDrawn,
                t.RejectedLinked,
                t.Retries,
                t.Skipped,
                t.Twins == 0 ? 0 : t.MeanFinalGuidance * t.Twins,
                t.LowestFinalGuidance
            ))
            .ToList();

    /// <summary>A sampling job's samples, in shard order, as a synthetic training set.</summary>
    private static SyntheticTrainingSet SetOf(SamplingJobStatus job) =>
        new(job.Shards.Select(s => s.Samples).ToList(), job.Shards.SelectMany(s => s.SampleIds).ToList());

    /// <summary>Runs one stage, recording when it started and finished; a stage that finished before is run again
    /// cheaply (its grains remember).</summary>
    private async Task<T> Stage<T>(string name, Func<Task<(T Result, string Detail)>> body)
    {
        if (state.State.PipelineState == WorkState.Cancelled)
            throw new RunCancelledException();
        var started = DateTimeOffset.UtcNow;
        var previous = state.State.Stages.FirstOrDefault(s => s.Name == name);
        ReplaceStage(new StageStatus(name, WorkState.Running, previous?.StartedAt ?? started, null, previous?.Detail));
        await WriteOneAtATimeAsync(state);
        metrics.Pipeline(this.GetPrimaryKeyString(), name);
        var (result, detail) = await body();
        var finished = previous is { State: WorkState.Completed }
            ? previous
            : new StageStatus(name, WorkState.Completed, previous?.StartedAt ?? started, DateTimeOffset.UtcNow, detail);
        ReplaceStage(finished);
        await WriteOneAtATimeAsync(state);
        LogStage(this.GetPrimaryKeyString(), name, detail);
        return result;
    }

    private Task<T> Stage<T>(string name, Func<Task<T>> body)
        where T : class => Stage(name, async () =>
        {
            var result = await body();
            return (result, Describe(result));
        });

    private static string Describe(object result) =>
        result switch
        {
            TrainingStatus t => $"{t.Step} steps"
                + (t.Resumes > 0 ? $", resumed {t.Resumes}x from a checkpoint" : "")
                + (t.Metrics is { } m ? ", " + string.Join(", ", m.Select(kv => $"{kv.Key} {kv.Value:0.###}")) : ""),
            SamplingJobStatus s when ReleaseAssembler.TwinTotals(TwinShards(s)) is { } t =>
                $"{t.Twins} twins of {t.Records} records ({t.Extras} extra), {t.Skipped} skipped, "
                    + $"{t.RejectedLinked} of {t.CandidatesDrawn} candidates linked, {t.Retries} retries, lowest "
                    + $"guidance {t.LowestFinalGuidance:F1}",
            SamplingJobStatus s => $"{s.ShardsDone} shards",
            AuditStatus a =>
                $"{a.Summary!.Flagged} of {a.Summary.Total} flagged ({a.Summary.Rate:P2}), {a.TilesTotal} tiles",
            _ => "",
        };

    /// <summary>The stage the run ended in shows how it ended, not "running" forever.</summary>
    private void EndRunningStages(WorkState end, string detail)
    {
        foreach (var stage in state.State.Stages.Where(s => s.State == WorkState.Running).ToList())
            ReplaceStage(stage with { State = end, FinishedAt = DateTimeOffset.UtcNow, Detail = detail });
    }

    private void ReplaceStage(StageStatus stage)
    {
        var index = state.State.Stages.FindIndex(s => s.Name == stage.Name);
        if (index >= 0)
            state.State.Stages[index] = stage;
        else
            state.State.Stages.Add(stage);
    }

    private void SetStageDetail(string name, string detail)
    {
        var index = state.State.Stages.FindIndex(s => s.Name == name);
        if (index >= 0)
            state.State.Stages[index] = state.State.Stages[index] with { Detail = detail };
    }

    private async Task<TrainingStatus> Train(string runId, TrainingRunSpec spec)
    {
        await GrainFactory.GetGrain<ITrainingRunGrain>(runId).Start(spec);
        return await WaitForTraining(runId);
    }

    private Task<TrainingStatus> WaitForTraining(string runId) =>
        WaitUntilDone(
            $"training run {runId}",
            GrainFactory.GetGrain<ITrainingRunGrain>(runId).GetStatus,
            s => s.State,
            s => s.Error
        );

    private async Task<SamplingJobStatus> Sample(string jobId, SamplingJobSpec job)
    {
        var grain = GrainFactory.GetGrain<ISamplingJobGrain>(jobId);
        await grain.Start(job);
        return await WaitUntilDone($"sampling job {jobId}", grain.GetStatus, s => s.State, s => s.Error);
    }

    private async Task<AuditStatus> Audit(string auditId, IReadOnlyList<ArtifactRef> bundles, PipelineSpec spec)
    {
        var audit = GrainFactory.GetGrain<IPrivacyAuditGrain>(auditId);
        await audit.Start(
            new AuditSpec(
                spec.Dataset,
                bundles,
                spec.Alpha,
                5,
                spec.SyntheticTile,
                spec.RealTile,
                spec.EncoderSteps,
                spec.Canaries,
                spec.VerifierSteps,
                spec.VerifierBatch,
                spec.VerifierLookAlikes
            )
        );
        return await WaitUntilDone($"audit {auditId}", audit.GetStatus, s => s.State, s => s.Error);
    }

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Pipeline {Run}: release written={Released}, {Files} synthetic files"
    )]
    private partial void LogReleased(string run, bool released, int files);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: stage '{Stage}' done: {Detail}")]
    private partial void LogStage(string run, string stage, string detail);

    private sealed class GateRefusedException(string message) : Exception(message);

    private sealed class RunCancelledException() : Exception("the run was cancelled");

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Pipeline {Run}: stopped by its cancellation; nothing is released"
    )]
    private partial void LogStoppedByCancel(string run);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: retrying from its last finished stage")]
    private partial void LogRetry(string run);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pipeline {Run} interrupted ({Reason}); it resumes")]
    private partial void LogInterrupted(string run, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pipeline {Run} refused: {Reasons}")]
    private partial void LogRefused(string run, string reasons);

    [LoggerMessage(Level = LogLevel.Error, Message = "Pipeline {Run} failed")]
    private partial void LogPipelineFailed(Exception exception, string run);
}
