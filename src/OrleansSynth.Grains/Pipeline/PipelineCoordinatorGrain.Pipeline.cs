using System.Text.Json;
using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Sampling;
using OrleansSynth.Grains.Security;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diversity;
using OrleansSynth.ML.Evaluation;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Release;
using OrleansSynth.ML.Training;
using OrleansSynth.Reports;
using static TorchSharp.torch;

namespace OrleansSynth.Grains.Pipeline;

/// <summary>
/// The pipeline driver: each stage starts an idempotent grain keyed by the run and waits for it, so after a silo
/// failure the driver simply runs again and fast-forwards through the stages that already finished.
/// </summary>
public sealed partial class PipelineCoordinatorGrain
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private TaskCompletionSource _approved = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _pipeline;

    protected override bool IsRunning => state.State.PipelineState == WorkState.Running;

    protected override bool IsWorking => _pipeline is { IsCompleted: false };

    protected override void ResumeWork() => _pipeline = DriveAsync();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        KeepActiveWhile(() => IsRunning);
        if (state.State.ApprovedBy is not null) _approved.TrySetResult();
        if (IsRunning) ResumeWork();
        return Task.CompletedTask;
    }

    public async Task<PipelineStatus> Run(PipelineSpec spec)
    {
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
        state.State.PolicySetByRole = submitter is null ? "the cluster" : $"the {submitter.Role.ToString().ToLowerInvariant()}, at or above the cluster's floor";
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
        if (state.State.PipelineState != WorkState.Failed) return PipelineSnapshot();
        var run = this.GetPrimaryKeyString();
        // Every stage grain of the run: the failed ones run again, the others answer as they are.
        foreach (var training in RunGrainIds.TrainingRuns(run)) await GrainFactory.GetGrain<ITrainingRunGrain>(training).Retry();
        foreach (var job in RunGrainIds.SamplingJobs(run)) await GrainFactory.GetGrain<ISamplingJobGrain>(job).Retry();
        foreach (var audit in RunGrainIds.Audits(run)) await GrainFactory.GetGrain<IPrivacyAuditGrain>(audit).Retry();
        (state.State.PipelineState, state.State.Error) = (WorkState.Running, null);
        var failed = state.State.Stages.FindIndex(s => s.State == WorkState.Running);
        if (failed >= 0) state.State.Stages[failed] = state.State.Stages[failed] with { Detail = "retrying" };
        await WriteOneAtATimeAsync(state);
        LogRetry(run);
        await KeepResumingAsync();
        ResumeWork();
        return PipelineSnapshot();
    }

    /// <summary>
    /// The run's status as the caller may see it: a failure's text can name real files or records (a dataset error does),
    /// so a submitter reads that the run failed and where, and an operator reads why.
    /// </summary>
    private PipelineStatus PipelineSnapshot()
    {
        var s = state.State;
        if (CallerPrincipal.Current is not { Role: ClientRole.Submitter })
            return new(s.PipelineState, s.Stages.ToList(), s.ReportFile, s.Error, s.Policy, s.PolicySetBy);
        const string Withheld = "failed; the reason may name real records, so only an operator can read it";
        var stages = s.Stages.Select(stage => stage.State == WorkState.Failed ? stage with { Detail = Withheld } : stage).ToList();
        var error = s.PipelineState == WorkState.Failed ? $"the run {Withheld}" : s.Error;
        return new(s.PipelineState, stages, s.ReportFile, error, s.Policy, s.PolicySetBy);
    }

    private async Task DriveAsync()
    {
        var spec = state.State.Spec!;
        var run = this.GetPrimaryKeyString();
        try
        {
            var dataset = await Stage("register dataset", async () =>
            {
                var info = await GrainFactory.GetGrain<IDatasetGrain>(spec.Dataset).Register();
                return (info, $"{info.TrainCount} train / {info.TestCount} test records, {info.NumClasses} classes");
            });
            var classifierTemplate = new TrainingRunSpec(spec.Dataset, spec.ClassifierSteps, BatchSize: 128, LearningRate: 1e-3, CheckpointEvery: 500, Kind: TrainingKind.Classifier);
            var teacherSpec = spec.Teacher with { Dataset = spec.Dataset, Kind = TrainingKind.Diffusion, Synthetic = null };
            var classCounts = spec.MatchRealLabels ? dataset.TrainLabelCounts : null;

            // 1. The teacher and its synthetic set: plain samples, or one twin per real record.
            TrainingStatus teacher;
            SamplingJobStatus teacherSamples;
            if (spec.UsesTwins)
            {
                // The real-data classifier is both the frozen feature extractor of the pseudo-conditioning and the utility baseline.
                var extractor = await Stage("train feature extractor", () => Train(RunGrainIds.FeatureExtractor(run), classifierTemplate));
                teacher = await Stage("train teacher", () => Train(RunGrainIds.Teacher(run), teacherSpec with { FeatureExtractor = extractor.Checkpoint }));
                teacherSamples = await Stage("generate twins", () => Sample(RunGrainIds.Twins(run), TwinSampling(teacher.Checkpoint!, extractor.Checkpoint!, spec, spec.Teacher.Seed, dataset.TrainCount, sources: null)));
            }
            else
            {
                teacher = await Stage("train teacher", () => Train(RunGrainIds.Teacher(run), teacherSpec));
                teacherSamples = await Stage("sample teacher", () => Sample(RunGrainIds.TeacherSamples(run), PlainSampling(teacher.Checkpoint!, spec, classCounts)));
            }
            var teacherSet = new SyntheticTrainingSet(teacherSamples.Shards.Select(s => s.Samples).ToList(), teacherSamples.Shards.SelectMany(s => s.SampleIds).ToList());

            // 2. The audit against every real training record, the filter and the gate: the same for every strategy.
            var teacherAudit = await Stage("audit teacher samples", () => Audit(RunGrainIds.TeacherAudit(run), teacherSet.Bundles, spec));
            if (state.State.AuditId != RunGrainIds.TeacherAudit(run)) await AttachAuditAsync(RunGrainIds.TeacherAudit(run), teacherSet.SampleIds, teacherSet.Bundles);
            var filtered = await Stage("filter flagged samples", async () =>
            {
                var set = await ApplyFilter();
                return (set, $"removed {set.RemovedSampleIds.Count}, kept {set.KeptSampleIds.Count}");
            });
            await Stage(spec.TrainsStudent ? "distillation gate" : "release gate", async () =>
            {
                var decision = await RequestDistillation("pipeline");
                while (!decision.Open)
                {
                    if (decision.Reasons.Count != 1 || !decision.Evidence.ApprovalRequired || decision.Evidence.ApprovedBy is not null)
                        throw new GateRefusedException($"the gate refused: {string.Join("; ", decision.Reasons)}");
                    SetStageDetail(spec.TrainsStudent ? "distillation gate" : "release gate", "waiting for approval");
                    await _approved.Task;
                    decision = await RequestDistillation("pipeline");
                }
                return (decision, decision.Evidence.ApprovedBy is { } who ? $"open, approved by {who}" : "open");
            });

            // 3. The student, trained on the filtered set only, and its own samples and audit; its flagged samples are filtered too.
            var teacherKept = teacherSet with { SampleIds = filtered.KeptSampleIds };
            StudentOutcome? studentOutcome = null;
            if (spec.TrainsStudent)
            {
                // After twins the student is pseudo-conditioned too, on the classifier trained on the kept twins alone
                // (the utility stage's, so trained once): nothing it learns from saw a patient, and its samples are
                // twins of its own training set, with the variety plain sampling loses (README, "Results").
                var studentExtractor = spec.UsesTwins
                    ? await Stage("train student feature extractor", () => Train(RunGrainIds.TeacherClassifier(run), classifierTemplate with { Synthetic = teacherKept }))
                    : null;
                var student = await Stage("train student", async () =>
                {
                    var status = await GrainFactory.GetGrain<ITrainingRunGrain>(RunGrainIds.Student(run)).GetStatus();
                    if (status.State == WorkState.NotStarted)
                        await StartStudent(RunGrainIds.Student(run), spec.Student with { Kind = TrainingKind.Diffusion, FeatureExtractor = studentExtractor?.Checkpoint }, "pipeline");
                    return await WaitForTraining(RunGrainIds.Student(run));
                });
                var studentSamples = await Stage("sample student", () => Sample(RunGrainIds.StudentSamples(run), studentExtractor is null
                    ? PlainSampling(student.Checkpoint!, spec, classCounts)
                    : TwinSampling(student.Checkpoint!, studentExtractor.Checkpoint!, spec, spec.Student.Seed, dataset.TrainCount, sources: teacherKept)));
                var studentSet = new SyntheticTrainingSet(studentSamples.Shards.Select(s => s.Samples).ToList(), studentSamples.Shards.SelectMany(s => s.SampleIds).ToList());
                var studentAudit = await Stage("audit student samples", () => Audit(RunGrainIds.StudentAudit(run), studentSet.Bundles, spec));
                var studentFlagged = studentAudit.FlaggedSampleIds.ToHashSet(StringComparer.Ordinal);
                var studentKept = studentSet with { SampleIds = studentSet.SampleIds.Where(id => !studentFlagged.Contains(id)).ToList() };
                studentOutcome = new StudentOutcome(student, studentKept, studentAudit, studentFlagged.Count, TwinShards(studentSamples));
            }

            // 4. The final gate: a student is released only when its own audit vouches for it.
            IReadOnlyList<string> refusals = [];
            if (studentOutcome is not null)
            {
                refusals = await Stage("student release gate", () =>
                {
                    var reasons = ReleaseGate.Refusals(state.State.Policy, studentOutcome.Audit.Summary!, studentOutcome.Samples.SampleIds.Count);
                    return Task.FromResult((reasons, reasons.Count == 0 ? "open" : "refused: " + string.Join("; ", reasons)));
                });
            }

            // 5. Utility: one classifier architecture trained on real data and on each filtered synthetic set.
            var classifiers = await Stage("utility classifiers", async () =>
            {
                var runs = new List<Task<TrainingStatus>>
                {
                    Train(RunGrainIds.FeatureExtractor(run), classifierTemplate),
                    Train(RunGrainIds.TeacherClassifier(run), classifierTemplate with { Synthetic = teacherKept }),
                };
                if (studentOutcome is not null) runs.Add(Train(RunGrainIds.StudentClassifier(run), classifierTemplate with { Synthetic = studentOutcome.Samples }));
                var all = await Task.WhenAll(runs);
                return (all, string.Join(", ", all.Select(c => $"{c.Metrics!["accuracy"]:P1}")));
            });

            var release = await Stage("report and release", async () =>
            {
                var manifest = await WriteRelease(run, spec, dataset, new TeacherOutcome(teacher, teacherKept, teacherAudit, TwinShards(teacherSamples)), studentOutcome, classifiers, filtered, refusals);
                return (manifest, manifest.Released ? $"{manifest.Files.Count} files released" : "refused; report only");
            });
            // A cancel that reached the run while its release was being written: nothing is published.
            if (state.State.PipelineState != WorkState.Running) throw new RunCancelledException();
            state.State.Release = release;
            state.State.ReportFile = release.Released ? "report.html" : "report.json";
            if (refusals.Count == 0)
            {
                state.State.PipelineState = WorkState.Completed;
            }
            else
            {
                state.State.PipelineState = WorkState.Refused;
                state.State.Error = "release refused: " + string.Join("; ", refusals);
            }
        }
        catch (Exception) when (state.State.PipelineState == WorkState.Cancelled)
        {
            // Cancel wrote the end state and stopped the reminder; whatever this stage was doing is dropped.
            LogStoppedByCancel(run);
            return;
        }
        catch (Exception e) when (TransientFailures.IsSiloLoss(e))
        {
            LogInterrupted(run, e.GetType().Name);
            return; // a stop, not a failure: the reminder or the next activation drives the run on from its finished stages
        }
        catch (GateRefusedException refused)
        {
            // A refusal is the gate doing its job: nothing is released, and it is not an error to retry.
            state.State.PipelineState = WorkState.Refused;
            state.State.Error = refused.Message;
            EndRunningStages(WorkState.Refused, "refused");
            LogRefused(run, refused.Message);
        }
        catch (Exception e)
        {
            state.State.PipelineState = WorkState.Failed;
            state.State.Error = e.Message;
            EndRunningStages(WorkState.Failed, e.Message);
            LogPipelineFailed(e, run);
        }
        await WriteOneAtATimeAsync(state);
        await StopResumingAsync();
        metrics.Pipeline(run, state.State.PipelineState.ToString().ToLowerInvariant());
        metrics.Ended(run, failed: state.State.PipelineState == WorkState.Failed);
    }

    /// <param name="Samples">The teacher's samples (or twins) that passed the filter.</param>
    private sealed record TeacherOutcome(TrainingStatus Training, SyntheticTrainingSet Samples, AuditStatus Audit, IReadOnlyList<TwinStatistics> TwinShards);

    /// <param name="Samples">The student samples its own audit did not flag.</param>
    /// <param name="TwinShards">Per shard, when the student's samples are twins of its training set; empty otherwise.</param>
    private sealed record StudentOutcome(TrainingStatus Training, SyntheticTrainingSet Samples, AuditStatus Audit, int FilteredOut, IReadOnlyList<TwinStatistics> TwinShards);

    /// <summary>
    /// Twins of <see cref="PipelineSpec.SampleCount"/> records of <paramref name="sources"/> (a synthetic set; all of
    /// them when the filter left fewer), or of the dataset's training records when null.
    /// </summary>
    /// <param name="trainingRecords">The dataset's training records: a preset's count on a smaller dataset twins every record once.</param>
    private static SamplingJobSpec TwinSampling(ArtifactRef checkpoint, ArtifactRef featureExtractor, PipelineSpec spec, long seed, int trainingRecords, SyntheticTrainingSet? sources) =>
        new(checkpoint, Math.Min(spec.SampleCount, sources?.SampleIds.Count ?? trainingRecords), spec.ShardSize, seed, SamplerSteps: spec.SamplerSteps, Sampler: spec.Sampler,
            Twins: new TwinSamplingSpec(spec.Dataset, featureExtractor, spec.Diversity ?? new DiversityOptions(), spec.EncoderSteps, spec.Alpha, sources));

    private static SamplingJobSpec PlainSampling(ArtifactRef checkpoint, PipelineSpec spec, IReadOnlyList<int>? classCounts) =>
        new(checkpoint, spec.SampleCount, spec.ShardSize, spec.Teacher.Seed, spec.Guidance, spec.SamplerSteps, classCounts, Sampler: spec.Sampler);

    /// <summary>Each shard's twin statistics, in shard order (empty for a plain sampling job).</summary>
    private static List<TwinStatistics> TwinShards(SamplingJobStatus job) =>
        job.Shards.OrderBy(s => s.ShardIndex).Select(s => s.Twins).OfType<TwinShardStatistics>()
            .Select(t => new TwinStatistics(t.Records, t.Twins, t.Extras, t.CandidatesDrawn, t.RejectedLinked, t.Retries, t.Skipped,
                t.Twins == 0 ? 0 : t.MeanFinalGuidance * t.Twins, t.LowestFinalGuidance))
            .ToList();

    /// <summary>The twin statistics of all shards together (null for a plain sampling job).</summary>
    private static TwinStatistics? TwinTotals(IEnumerable<TwinStatistics> shards) =>
        shards.Aggregate((TwinStatistics?)null, (total, shard) => total?.Add(shard) ?? shard);

    /// <summary>Runs one stage, recording when it started and finished; a stage that finished before is run again cheaply (its grains remember).</summary>
    private async Task<T> Stage<T>(string name, Func<Task<(T Result, string Detail)>> body)
    {
        if (state.State.PipelineState == WorkState.Cancelled) throw new RunCancelledException();
        var started = DateTimeOffset.UtcNow;
        var previous = state.State.Stages.FirstOrDefault(s => s.Name == name);
        ReplaceStage(new StageStatus(name, WorkState.Running, previous?.StartedAt ?? started, null, previous?.Detail));
        await WriteOneAtATimeAsync(state);
        metrics.Pipeline(this.GetPrimaryKeyString(), name);
        var (result, detail) = await body();
        var finished = previous is { State: WorkState.Completed } ? previous : new StageStatus(name, WorkState.Completed, previous?.StartedAt ?? started, DateTimeOffset.UtcNow, detail);
        ReplaceStage(finished);
        await WriteOneAtATimeAsync(state);
        LogStage(this.GetPrimaryKeyString(), name, detail);
        return result;
    }

    private Task<T> Stage<T>(string name, Func<Task<T>> body) where T : class =>
        Stage(name, async () => { var result = await body(); return (result, Describe(result)); });

    private static string Describe(object result) => result switch
    {
        TrainingStatus t => $"{t.Step} steps" + (t.Resumes > 0 ? $", resumed {t.Resumes}x from a checkpoint" : "")
            + (t.Metrics is { } m ? ", " + string.Join(", ", m.Select(kv => $"{kv.Key} {kv.Value:0.###}")) : ""),
        SamplingJobStatus s when TwinTotals(TwinShards(s)) is { } t =>
            $"{t.Twins} twins of {t.Records} records ({t.Extras} extra), {t.Skipped} skipped, {t.RejectedLinked} of {t.CandidatesDrawn} candidates linked, {t.Retries} retries, lowest guidance {t.LowestFinalGuidance:F1}",
        SamplingJobStatus s => $"{s.ShardsDone} shards",
        AuditStatus a => $"{a.Summary!.Flagged} of {a.Summary.Total} flagged ({a.Summary.Rate:P2}), {a.TilesTotal} tiles",
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
        if (index >= 0) state.State.Stages[index] = stage;
        else state.State.Stages.Add(stage);
    }

    private void SetStageDetail(string name, string detail)
    {
        var index = state.State.Stages.FindIndex(s => s.Name == name);
        if (index >= 0) state.State.Stages[index] = state.State.Stages[index] with { Detail = detail };
    }

    private async Task<TrainingStatus> Train(string runId, TrainingRunSpec spec)
    {
        await GrainFactory.GetGrain<ITrainingRunGrain>(runId).Start(spec);
        return await WaitForTraining(runId);
    }

    private Task<TrainingStatus> WaitForTraining(string runId) =>
        WaitUntilDone($"training run {runId}", GrainFactory.GetGrain<ITrainingRunGrain>(runId).GetStatus, s => s.State, s => s.Error);

    private async Task<SamplingJobStatus> Sample(string jobId, SamplingJobSpec job)
    {
        var grain = GrainFactory.GetGrain<ISamplingJobGrain>(jobId);
        await grain.Start(job);
        return await WaitUntilDone($"sampling job {jobId}", grain.GetStatus, s => s.State, s => s.Error);
    }

    private async Task<AuditStatus> Audit(string auditId, IReadOnlyList<ArtifactRef> bundles, PipelineSpec spec)
    {
        var audit = GrainFactory.GetGrain<IPrivacyAuditGrain>(auditId);
        await audit.Start(new AuditSpec(spec.Dataset, bundles, spec.Alpha, 5, spec.SyntheticTile, spec.RealTile, spec.EncoderSteps, spec.Canaries, spec.VerifierSteps));
        return await WaitUntilDone($"audit {auditId}", audit.GetStatus, s => s.State, s => s.Error);
    }

    /// <summary>
    /// Fidelity on the compute worker, then the release (<see cref="ReleaseWriter"/>): the student's samples that
    /// passed its audit and its checkpoint or, without a student, the twins the filter kept; and the shareable report.
    /// A refused release holds the report alone. Both the release files and the internal report go to the artifact
    /// store; a client exports the release from there.
    /// </summary>
    private async Task<ReleaseManifest> WriteRelease(string run, PipelineSpec spec, DatasetInfo dataset, TeacherOutcome teacher, StudentOutcome? student,
        TrainingStatus[] classifiers, FilteredSet filtered, IReadOnlyList<string> refusals)
    {
        var release = Path.Combine(Path.GetTempPath(), "orleanssynth", "releases", Guid.NewGuid().ToString("N"));
        var released = refusals.Count == 0;
        var teacherCheckpoint = await artifacts.GetLocalPathAsync(teacher.Training.Checkpoint!);
        var studentCheckpoint = student is null ? null : await artifacts.GetLocalPathAsync(student.Training.Checkpoint!);
        var classifierPath = await artifacts.GetLocalPathAsync(classifiers[0].Checkpoint!);
        var teacherAuditPath = await artifacts.GetLocalPathAsync(teacher.Audit.Report!);
        var studentAuditPath = student is null ? null : await artifacts.GetLocalPathAsync(student.Audit.Report!);
        var teacherBundlePaths = await artifacts.GetLocalPathsAsync(teacher.Samples.Bundles);
        var studentBundlePaths = student is null ? [] : await artifacts.GetLocalPathsAsync(student.Samples.Bundles);
        var stages = state.State.Stages.Select(s => new StageTiming(s.Name, s.StartedAt, s.FinishedAt,
            s.FinishedAt is { } f && s.StartedAt is { } st ? (f - st).TotalSeconds : null, s.Detail)).ToList();
        var policy = state.State.Policy;
        var settings = new ReleasedSettings(spec.SampleCount, spec.Teacher.Steps, student is null ? null : spec.Student.Steps,
            spec.Teacher.LearningRate, student is null ? null : spec.Student.LearningRate, spec.Guidance, spec.Sampler.ToString(), spec.SamplerSteps,
            spec.Alpha, spec.EncoderSteps, spec.ClassifierSteps, spec.Canaries, policy.MinimumSamples, policy.MinimumCanaryRecall, policy.StudentFlaggedRateCeiling,
            spec.UsesTwins ? (spec.Diversity ?? new DiversityOptions()).ToTwinSettings() : null, state.State.PolicySetByRole ?? "");

        var (releasedFiles, internalReport) = await compute.RunAsync($"report {run}", (device, _) =>
        {
            var test = datasets.Get(spec.Dataset, DatasetSplit.Test);
            var teacherSet = SampleBundle.ReadKept("teacher", teacherBundlePaths, teacher.Samples.SampleIds);
            var studentSet = student is null ? null : SampleBundle.ReadKept("student", studentBundlePaths, student.Samples.SampleIds);
            using var classifier = ClassifierTrainer.LoadModel(classifierPath, device);
            using var realFeatures = classifier.Features(test);
            FidelityNumbers Fidelity(ImageDataset set)
            {
                using var synthetic = classifier.Features(set);
                return new(FrechetDistance.Compute(realFeatures, synthetic), ManifoldMetrics.Compute(realFeatures, synthetic));
            }

            var teacherAudit = ReadAudit(teacherAuditPath);
            var studentAudit = studentAuditPath is null ? null : ReadAudit(studentAuditPath);
            // Without a student the release is the filtered twins; the teacher itself saw real records and stays inside.
            var releasedSet = studentSet ?? teacherSet;
            var gate = new ReleaseGateEvidence(released, refusals, released ? releasedSet.Count : 0, released && studentCheckpoint is not null,
                teacherAudit.Summary.Canaries.Recall, studentAudit?.Summary.Canaries.Recall, policy.MinimumCanaryRecall,
                studentAudit?.Summary.RateUpper, policy.StudentFlaggedRateCeiling, student?.FilteredOut);
            PipelineReport Report(IReadOnlyDictionary<string, string> files) => new(
                run, spec.Strategy.ToString(), settings, dataset.ContentHash, files, stages,
                Privacy(teacherAudit, teacher.TwinShards.Count > 0 ? "twins" : "teacher samples"), studentAudit is null ? null : Privacy(studentAudit, student!.TwinShards.Count > 0 ? "student twins" : "student samples"),
                new UtilityNumbers(Evaluation(classifiers[0], test.Count), Evaluation(classifiers[1], test.Count), student is null ? null : Evaluation(classifiers[2], test.Count)),
                Fidelity(teacherSet), studentSet is null ? null : Fidelity(studentSet),
                DiffusionCheckpoint.ReadHeader(teacherCheckpoint).LossHistory, studentCheckpoint is null ? null : DiffusionCheckpoint.ReadHeader(studentCheckpoint).LossHistory,
                filtered.RemovedSampleIds.Count, filtered.KeptSampleIds.Count, gate, TwinTotals(teacher.TwinShards), student is null ? null : TwinTotals(student.TwinShards));

            IReadOnlyList<ReleasedFile> files = [];
            if (released)
                files = ReleaseWriter.Write(release, releasedSet, studentCheckpoint,
                    new ReleasedSamplerDefaults(DiffusionSamplers.Name(spec.Sampler), spec.SamplerSteps, 0, spec.Guidance),
                    CardDetailsOf(spec.Description), Report, Json);
            else ReleaseWriter.WriteRefusal(release, Report(new Dictionary<string, string>()), Json);
            var nearest = (studentAudit ?? teacherAudit).Samples.ToDictionary(v => v.File, StringComparer.Ordinal);
            var report = new InternalReport(run, files.Select(f => new InternalReleasedFile(f.File, f.SampleId, nearest[f.SampleId].NearestRecordIds, nearest[f.SampleId].Scores)).ToList(),
                filtered.RemovedSampleIds, teacher.TwinShards, teacher.Audit.Report!, student?.Audit.Report);
            return (files, JsonSerializer.SerializeToUtf8Bytes(report, Json));
        });
        // The mapping from released files to samples and real records: internal, in the artifact store only.
        state.State.InternalReport = await artifacts.PutBytesAsync(internalReport, "internal-report");
        try
        {
            var files = new List<ReleaseFile>();
            foreach (var file in Directory.GetFiles(release, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                files.Add(new ReleaseFile(Path.GetRelativePath(release, file).Replace('\\', '/'), await artifacts.PutFileAsync(file, "release-file")));
            LogReleased(run, released, releasedFiles.Count);
            return new ReleaseManifest(released, files);
        }
        finally
        {
            Directory.Delete(release, recursive: true);
        }
    }

    /// <summary>What must never leave the data holder: which released file is which sample, and its nearest real records.</summary>
    private sealed record InternalReport(string Run, IReadOnlyList<InternalReleasedFile> ReleasedFiles, IReadOnlyList<string> TeacherSamplesFilteredOut,
        IReadOnlyList<TwinStatistics> TwinShards, ArtifactRef TeacherAuditReport, ArtifactRef? StudentAuditReport);

    private sealed record InternalReleasedFile(string File, string SampleId, IReadOnlyList<string> NearestRecordIds, IReadOnlyList<float> Scores);

    private static AuditReport ReadAudit(string path) => JsonSerializer.Deserialize<AuditReport>(File.ReadAllBytes(path), Json)!;

    /// <param name="set">What the audited set is called in the shareable report (the audit's own name is an internal id).</param>
    private static CardDetails CardDetailsOf(ReleaseDescription? d) =>
        new(d?.DataSource, d?.IntendedUse, d?.OutOfScopeUse, d?.Licence, d?.Contact, d?.ClassNames);

    private static PrivacyNumbers Privacy(AuditReport report, string set)
    {
        var m = report.Metrics;
        // The audit names the dataset by its path on the silos: the shareable report names it by role only.
        return new PrivacyNumbers(report.Summary with { Synthetic = set, Dataset = "real training set" }, m.SyntheticNearestSimilarity, m.ControlNearestSimilarity, m.SinglingOut, m.HoldoutDistance, m.ExactCopies, m.NearExactCopies);
    }

    private static ClassifierEvaluation Evaluation(TrainingStatus classifier, int testCount) =>
        new(testCount, classifier.Metrics!["accuracy"], classifier.Metrics["macroAuc"]);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: release written={Released}, {Files} synthetic files")]
    private partial void LogReleased(string run, bool released, int files);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: stage '{Stage}' done: {Detail}")]
    private partial void LogStage(string run, string stage, string detail);

    private sealed class GateRefusedException(string message) : Exception(message);

    private sealed class RunCancelledException() : Exception("the run was cancelled");

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: stopped by its cancellation; nothing is released")]
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
