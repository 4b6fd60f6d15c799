using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Pipeline;

/// <summary>
/// What each strategy runs, in order, and each stage: one named step that starts (or finds) the run's grain for it,
/// waits for it and records what it produced. Every stage is safe to run again: after a silo is lost the driver goes
/// through the list from the top, and a finished stage answers at once from its grains.
/// </summary>
public sealed partial class PipelineCoordinatorGrain
{
    private IReadOnlyList<PipelineStage> StagesOf(PipelineSpec spec) =>
        spec.Strategy switch
        {
            PipelineStrategy.Distillation =>
            [
                new("register dataset", RegisterDatasetAsync),
                new("train teacher", TrainTeacherAsync),
                new("sample teacher", SampleTeacherAsync),
                new("audit teacher samples", AuditTeacherAsync),
                new("filter flagged samples", FilterFlaggedAsync),
                new(DistillationGateStage, PassGateAsync),
                new("train student", TrainStudentAsync),
                new("sample student", SampleStudentAsync),
                new("audit student samples", AuditStudentAsync),
                new("student release gate", StudentReleaseGateAsync),
                new("utility classifiers", TrainUtilityClassifiersAsync),
                new("report and release", ReportAndReleaseAsync),
            ],
            PipelineStrategy.DiversityAware =>
            [
                new("register dataset", RegisterDatasetAsync),
                new("train feature extractor", TrainFeatureExtractorAsync),
                new("train teacher", TrainTeacherAsync),
                new("generate twins", GenerateTwinsAsync),
                new("audit teacher samples", AuditTeacherAsync),
                new("filter flagged samples", FilterFlaggedAsync),
                new(ReleaseGateStage, PassGateAsync),
                new("utility classifiers", TrainUtilityClassifiersAsync),
                new("report and release", ReportAndReleaseAsync),
            ],
            PipelineStrategy.DiversityAwareDistillation =>
            [
                new("register dataset", RegisterDatasetAsync),
                new("train feature extractor", TrainFeatureExtractorAsync),
                new("train teacher", TrainTeacherAsync),
                new("generate twins", GenerateTwinsAsync),
                new("audit teacher samples", AuditTeacherAsync),
                new("filter flagged samples", FilterFlaggedAsync),
                new(DistillationGateStage, PassGateAsync),
                new("train student feature extractor", TrainStudentFeatureExtractorAsync),
                new("train student", TrainStudentAsync),
                new("sample student", SampleStudentAsync),
                new("audit student samples", AuditStudentAsync),
                new("student release gate", StudentReleaseGateAsync),
                new("utility classifiers", TrainUtilityClassifiersAsync),
                new("report and release", ReportAndReleaseAsync),
            ],
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Strategy, "Unknown strategy."),
        };

    private const string DistillationGateStage = "distillation gate";
    private const string ReleaseGateStage = "release gate";

    /// <summary>The gate a run's samples pass: before its student, or before its release when it trains none.</summary>
    private static string GateStage(PipelineSpec spec) => spec.TrainsStudent ? DistillationGateStage : ReleaseGateStage;

    /// <summary>One step of a run: its name in the run's status, and what it does, returning its detail line.</summary>
    private sealed record PipelineStage(string Name, Func<RunProgress, Task<string>> Run);

    private async Task<string> RegisterDatasetAsync(RunProgress run)
    {
        var info = run.Dataset = await GrainFactory.GetGrain<IDatasetGrain>(run.Spec.Dataset).Register();
        return $"{info.TrainCount} train / {info.TestCount} test records, {info.NumClasses} classes";
    }

    /// <summary>The real-data classifier: the pseudo-conditioning's feature extractor and the utility
    /// baseline.</summary>
    private async Task<string> TrainFeatureExtractorAsync(RunProgress run) =>
        Describe(run.FeatureExtractor = await Train(RunGrainIds.FeatureExtractor(run.Id), run.ClassifierTemplate));

    private async Task<string> TrainTeacherAsync(RunProgress run)
    {
        var spec = run.Spec.Teacher with
        {
            Dataset = run.Spec.Dataset,
            Kind = TrainingKind.Diffusion,
            Synthetic = null,
            FeatureExtractor = run.FeatureExtractor?.Checkpoint ?? run.Spec.Teacher.FeatureExtractor,
            KnownTokensFrom = null,
        };
        return Describe(run.Teacher = await Train(RunGrainIds.Teacher(run.Id), spec));
    }

    private async Task<string> SampleTeacherAsync(RunProgress run)
    {
        var job = PlainSampling(run.Teacher.Checkpoint!, run.Spec, run.ClassCounts, run.Dataset.HasReports);
        return Describe(run.TeacherSamples = await Sample(RunGrainIds.TeacherSamples(run.Id), job));
    }

    /// <summary>One twin per real training record (the diversity-aware strategies' teacher set).</summary>
    private async Task<string> GenerateTwinsAsync(RunProgress run)
    {
        var job = TwinSampling(
            run.Teacher.Checkpoint!,
            run.FeatureExtractor!.Checkpoint!,
            run.Spec,
            run.Spec.Teacher.Seed,
            run.Dataset.TrainCount,
            sources: null
        );
        return Describe(run.TeacherSamples = await Sample(RunGrainIds.Twins(run.Id), job));
    }

    /// <summary>The audit against every real training record; the coordinator's filter then reads it.</summary>
    private async Task<string> AuditTeacherAsync(RunProgress run)
    {
        var (id, set) = (RunGrainIds.TeacherAudit(run.Id), run.TeacherSet);
        run.TeacherAudit = await Audit(id, set.Bundles, run.Spec);
        if (state.State.AuditId != id)
            await AttachAuditAsync(id, set.SampleIds, set.Bundles);
        return Describe(run.TeacherAudit);
    }

    private async Task<string> FilterFlaggedAsync(RunProgress run)
    {
        var filtered = run.Filtered = await ApplyFilter();
        return $"removed {filtered.RemovedSampleIds.Count}, kept {filtered.KeptSampleIds.Count}";
    }

    /// <summary>The distillation (without a student, release) gate; an approval it waits for keeps the run
    /// here.</summary>
    private async Task<string> PassGateAsync(RunProgress run)
    {
        var decision = await RequestDistillation("pipeline");
        while (!decision.Open)
        {
            var waitsForApproval =
                decision.Reasons.Count == 1 && decision.Evidence is { ApprovalRequired: true, ApprovedBy: null };
            if (!waitsForApproval)
                throw new GateRefusedException($"the gate refused: {string.Join("; ", decision.Reasons)}");
            SetStageDetail(GateStage(run.Spec), "waiting for approval");
            await _approved.Task;
            decision = await RequestDistillation("pipeline");
        }
        return decision.Evidence.ApprovedBy is { } who ? $"open, approved by {who}" : "open";
    }

    /// <summary>
    /// After twins the student is pseudo-conditioned too, on the classifier trained on the kept twins alone (the
    /// utility stage's, so trained once); its samples are then twins of its own synthetic training set.
    /// </summary>
    private async Task<string> TrainStudentFeatureExtractorAsync(RunProgress run) =>
        Describe(
            run.StudentExtractor = await Train(
                RunGrainIds.TeacherClassifier(run.Id),
                run.ClassifierTemplate with
                {
                    Synthetic = run.TeacherKept,
                }
            )
        );

    /// <summary>The student, trained on the filtered synthetic set only (<see cref="StartStudent"/> checks).</summary>
    private async Task<string> TrainStudentAsync(RunProgress run)
    {
        var id = RunGrainIds.Student(run.Id);
        var status = await GrainFactory.GetGrain<ITrainingRunGrain>(id).GetStatus();
        if (status.State == WorkState.NotStarted)
        {
            var spec = run.Spec.Student with
            {
                Kind = TrainingKind.Diffusion,
                FeatureExtractor = run.StudentExtractor?.Checkpoint,
                KnownTokensFrom = run.Dataset.HasReports ? run.Teacher.Checkpoint : null,
            };
            await StartStudent(id, spec, "pipeline");
        }
        return Describe(run.Student = await WaitForTraining(id));
    }

    private async Task<string> SampleStudentAsync(RunProgress run)
    {
        var job = run.StudentExtractor is null
            ? PlainSampling(run.Student!.Checkpoint!, run.Spec, run.ClassCounts, run.Dataset.HasReports)
            : TwinSampling(
                run.Student!.Checkpoint!,
                run.StudentExtractor.Checkpoint!,
                run.Spec,
                run.Spec.Student.Seed,
                run.Dataset.TrainCount,
                sources: run.TeacherKept
            );
        return Describe(run.StudentSamples = await Sample(RunGrainIds.StudentSamples(run.Id), job));
    }

    /// <summary>The student's own audit; the samples it flags are filtered out of the release too.</summary>
    private async Task<string> AuditStudentAsync(RunProgress run)
    {
        var set = SetOf(run.StudentSamples!);
        var audit = await Audit(RunGrainIds.StudentAudit(run.Id), set.Bundles, run.Spec);
        var flagged = audit.FlaggedSampleIds.ToHashSet(StringComparer.Ordinal);
        var kept = set with { SampleIds = set.SampleIds.Where(id => !flagged.Contains(id)).ToList() };
        run.StudentOutcome = new StudentOutcome(
            run.Student!,
            kept,
            audit,
            flagged.Count,
            TwinShards(run.StudentSamples!)
        );
        return Describe(audit);
    }

    /// <summary>The final gate: a student is released only when its own audit vouches for it.</summary>
    private Task<string> StudentReleaseGateAsync(RunProgress run)
    {
        var student = run.StudentOutcome!;
        var reasons = run.Refusals = ReleaseGate.Refusals(
            state.State.Policy,
            student.Audit.Summary!,
            student.Samples.SampleIds.Count
        );
        return Task.FromResult(reasons.Count == 0 ? "open" : "refused: " + string.Join("; ", reasons));
    }

    /// <summary>Utility: one classifier recipe trained on real data and on each filtered synthetic set.</summary>
    private async Task<string> TrainUtilityClassifiersAsync(RunProgress run)
    {
        var runs = new List<Task<TrainingStatus>>
        {
            Train(RunGrainIds.FeatureExtractor(run.Id), run.ClassifierTemplate),
            Train(RunGrainIds.TeacherClassifier(run.Id), run.ClassifierTemplate with { Synthetic = run.TeacherKept }),
        };
        if (run.StudentOutcome is { } student)
            runs.Add(
                Train(
                    RunGrainIds.StudentClassifier(run.Id),
                    run.ClassifierTemplate with
                    {
                        Synthetic = student.Samples,
                    }
                )
            );
        var all = run.Classifiers = await Task.WhenAll(runs);
        return string.Join(", ", all.Select(c => $"{c.Metrics!["accuracy"]:P1}"));
    }

    private async Task<string> ReportAndReleaseAsync(RunProgress run)
    {
        var teacher = new TeacherOutcome(
            run.Teacher,
            run.TeacherKept,
            run.TeacherAudit,
            TwinShards(run.TeacherSamples)
        );
        var output = await new ReleaseAssembler(compute, artifacts, datasets).AssembleAsync(
            new(
                run.Id,
                run.Spec,
                run.Dataset,
                teacher,
                run.StudentOutcome,
                run.Classifiers,
                run.Filtered,
                run.Refusals,
                state.State.Stages.ToList(),
                state.State.Policy,
                state.State.PolicySetByRole ?? ""
            )
        );
        state.State.InternalReport = output.InternalReport;
        run.Release = output.Manifest;
        LogReleased(run.Id, output.Manifest.Released, output.ReleasedFiles);
        return output.Manifest.Released ? $"{output.Manifest.Files.Count} files released" : "refused; report only";
    }

    /// <summary>What a run has produced so far, stage by stage; rebuilt by running the stages again on
    /// restart.</summary>
    private sealed class RunProgress(PipelineSpec spec, string id)
    {
        public PipelineSpec Spec { get; } = spec;
        public string Id { get; } = id;
        public DatasetInfo Dataset { get; set; } = null!;
        public TrainingStatus? FeatureExtractor { get; set; }
        public TrainingStatus Teacher { get; set; } = null!;
        public SamplingJobStatus TeacherSamples { get; set; } = null!;
        public AuditStatus TeacherAudit { get; set; } = null!;
        public FilteredSet Filtered { get; set; } = null!;
        public TrainingStatus? StudentExtractor { get; set; }
        public TrainingStatus? Student { get; set; }
        public SamplingJobStatus? StudentSamples { get; set; }
        public StudentOutcome? StudentOutcome { get; set; }

        /// <summary>The final gate's reasons; none is a release.</summary>
        public IReadOnlyList<string> Refusals { get; set; } = [];
        public TrainingStatus[] Classifiers { get; set; } = [];
        public ReleaseManifest? Release { get; set; }

        public SyntheticTrainingSet TeacherSet => SetOf(TeacherSamples);

        /// <summary>The teacher's samples that passed the filter: the student's (and utility's) training set.</summary>
        public SyntheticTrainingSet TeacherKept => TeacherSet with { SampleIds = Filtered.KeptSampleIds };
        public IReadOnlyList<int>? ClassCounts => Spec.MatchRealLabels ? Dataset.TrainLabelCounts : null;

        /// <summary>The one classifier recipe of the feature extractors and the utility stage.</summary>
        public TrainingRunSpec ClassifierTemplate =>
            new(
                Spec.Dataset,
                Spec.ClassifierSteps,
                BatchSize: 128,
                LearningRate: 1e-3,
                CheckpointEvery: 500,
                Kind: TrainingKind.Classifier
            );
    }
}
