using System.Text.Json;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Datasets;
using OrleansSynth.Grains.Sampling;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diversity;
using OrleansSynth.ML.Evaluation;
using OrleansSynth.ML.Release;
using OrleansSynth.ML.Training;
using OrleansSynth.Reports;

namespace OrleansSynth.Grains.Pipeline;

/// <summary>
/// The report and release of a finished run: fidelity on the compute worker, the shareable report, the release folder
/// (<see cref="ReleaseWriter"/>: the student's samples that passed its audit and its model or, without a student, the
/// twins the filter kept) and the internal report. A refused release holds the report alone. Both go to the artifact
/// store; a client exports the release from there.
/// </summary>
internal sealed class ReleaseAssembler(ComputeWorker compute, IArtifactStore artifacts, DatasetCache datasets)
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    /// <param name="Classifiers">The utility classifiers: real, teacher-synthetic and, with a student, its
    /// samples.</param>
    /// <param name="Refusals">The final gate's reasons; none means released.</param>
    /// <param name="PolicySetByRole">Who set the gate, by role only: the shareable report names no one.</param>
    public sealed record Inputs(
        string Run,
        PipelineSpec Spec,
        DatasetInfo Dataset,
        TeacherOutcome Teacher,
        StudentOutcome? Student,
        TrainingStatus[] Classifiers,
        FilteredSet Filtered,
        IReadOnlyList<string> Refusals,
        IReadOnlyList<StageStatus> Stages,
        PipelinePolicy Policy,
        string PolicySetByRole
    );

    /// <param name="InternalReport">Which released file is which sample, and its nearest real records.</param>
    public sealed record Output(ReleaseManifest Manifest, ArtifactRef InternalReport, int ReleasedFiles);

    public async Task<Output> AssembleAsync(Inputs inputs)
    {
        var (run, teacher, student) = (inputs.Run, inputs.Teacher, inputs.Student);
        var folder = Path.Combine(Path.GetTempPath(), "orleanssynth", "releases", Guid.NewGuid().ToString("N"));
        var paths = new LocalPaths(
            await artifacts.GetLocalPathAsync(teacher.Training.Checkpoint!),
            student is null ? null : await artifacts.GetLocalPathAsync(student.Training.Checkpoint!),
            await artifacts.GetLocalPathAsync(inputs.Classifiers[0].Checkpoint!),
            await artifacts.GetLocalPathAsync(teacher.Audit.Report!),
            student is null ? null : await artifacts.GetLocalPathAsync(student.Audit.Report!),
            await artifacts.GetLocalPathsAsync(teacher.Samples.Bundles),
            student is null ? [] : await artifacts.GetLocalPathsAsync(student.Samples.Bundles)
        );
        var (releasedFiles, internalReport) = await compute.RunAsync($"report {run}", (device, _) =>
            Write(inputs, paths, folder, device)
        );
        // The mapping from released files to samples and real records: internal, in the artifact store only.
        var internalRef = await artifacts.PutBytesAsync(internalReport, "internal-report");
        try
        {
            var files = new List<ReleaseFile>();
            foreach (
                var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            )
                files.Add(
                    new ReleaseFile(
                        Path.GetRelativePath(folder, file).Replace('\\', '/'),
                        await artifacts.PutFileAsync(file, "release-file")
                    )
                );
            return new Output(new ReleaseManifest(inputs.Refusals.Count == 0, files), internalRef, releasedFiles.Count);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed record LocalPaths(
        string TeacherCheckpoint,
        string? StudentCheckpoint,
        string Classifier,
        string TeacherAudit,
        string? StudentAudit,
        IReadOnlyList<string> TeacherBundles,
        IReadOnlyList<string> StudentBundles
    );

    /// <summary>On the compute worker: reads the sets, measures fidelity, writes the release and the internal
    /// report.</summary>
    private (IReadOnlyList<ReleasedFile> Files, byte[] InternalReport) Write(
        Inputs inputs,
        LocalPaths paths,
        string folder,
        TorchSharp.torch.Device device
    )
    {
        var (spec, teacher, student) = (inputs.Spec, inputs.Teacher, inputs.Student);
        var released = inputs.Refusals.Count == 0;
        var test = datasets.Get(spec.Dataset, DatasetSplit.Test);
        var teacherSet = SampleBundle.ReadKept("teacher", paths.TeacherBundles, teacher.Samples.SampleIds);
        var studentSet = student is null
            ? null
            : SampleBundle.ReadKept("student", paths.StudentBundles, student.Samples.SampleIds);
        using var classifier = ClassifierTrainer.LoadModel(paths.Classifier, device);
        using var realFeatures = classifier.Features(test);
        FidelityNumbers Fidelity(ImageDataset set)
        {
            using var synthetic = classifier.Features(set);
            return new(
                FrechetDistance.Compute(realFeatures, synthetic),
                ManifoldMetrics.Compute(realFeatures, synthetic)
            );
        }

        var teacherAudit = ReadAudit(paths.TeacherAudit);
        var studentAudit = paths.StudentAudit is null ? null : ReadAudit(paths.StudentAudit);
        // Without a student the release is the filtered twins; the teacher itself saw real records and stays inside.
        var releasedSet = studentSet ?? teacherSet;
        var policy = inputs.Policy;
        var gate = new ReleaseGateEvidence(
            released,
            inputs.Refusals,
            released ? releasedSet.Count : 0,
            released && paths.StudentCheckpoint is not null,
            teacherAudit.Summary.Canaries.Recall,
            studentAudit?.Summary.Canaries.Recall,
            policy.MinimumCanaryRecall,
            studentAudit?.Summary.RateUpper,
            policy.StudentFlaggedRateCeiling,
            student?.FilteredOut
        );
        var utility = new UtilityNumbers(
            Evaluation(inputs.Classifiers[0], test.Count),
            Evaluation(inputs.Classifiers[1], test.Count),
            student is null ? null : Evaluation(inputs.Classifiers[2], test.Count)
        );
        var promptAgreement = PromptAgreementOf(spec, teacherSet, teacher, studentSet, student, device);
        var (teacherFidelity, studentFidelity) = (
            Fidelity(teacherSet),
            studentSet is null ? null : Fidelity(studentSet)
        );
        PipelineReport Report(IReadOnlyDictionary<string, string> files) =>
            new(
                inputs.Run,
                spec.Strategy.ToString(),
                Settings(inputs),
                inputs.Dataset.ContentHash,
                files,
                Timings(inputs.Stages),
                Privacy(teacherAudit, teacher.TwinShards.Count > 0 ? "twins" : "teacher samples"),
                studentAudit is null
                    ? null
                    : Privacy(studentAudit, student!.TwinShards.Count > 0 ? "student twins" : "student samples"),
                utility,
                teacherFidelity,
                studentFidelity,
                DiffusionCheckpoint.ReadHeader(paths.TeacherCheckpoint).LossHistory,
                paths.StudentCheckpoint is null
                    ? null
                    : DiffusionCheckpoint.ReadHeader(paths.StudentCheckpoint).LossHistory,
                inputs.Filtered.RemovedSampleIds.Count,
                inputs.Filtered.KeptSampleIds.Count,
                gate,
                TwinTotals(teacher.TwinShards),
                student is null ? null : TwinTotals(student.TwinShards),
                promptAgreement
            );

        IReadOnlyList<ReleasedFile> files = [];
        if (released)
            files = ReleaseWriter.Write(
                folder,
                releasedSet,
                paths.StudentCheckpoint,
                new ReleasedSamplerDefaults(DiffusionSamplers.Name(spec.Sampler), spec.SamplerSteps, 0, spec.Guidance),
                CardDetailsOf(spec.Description),
                Report,
                Json
            );
        else
            ReleaseWriter.WriteRefusal(folder, Report(new Dictionary<string, string>()), Json);
        var nearest = (studentAudit ?? teacherAudit).Samples.ToDictionary(v => v.File, StringComparer.Ordinal);
        var report = new InternalReport(
            inputs.Run,
            files
                .Select(f => new InternalReleasedFile(
                    f.File,
                    f.SampleId,
                    nearest[f.SampleId].NearestRecordIds,
                    nearest[f.SampleId].Scores
                ))
                .ToList(),
            inputs.Filtered.RemovedSampleIds,
            teacher.TwinShards,
            teacher.Audit.Report!,
            student?.Audit.Report
        );
        return (files, JsonSerializer.SerializeToUtf8Bytes(report, Json));
    }

    /// <summary>How well the plainly drawn sets follow their prompts, against held-out real images with their own
    /// reports (<see cref="PromptAgreementNumbers"/>); null when no set can be scored (twins are not).</summary>
    private PromptAgreementNumbers? PromptAgreementOf(
        PipelineSpec spec,
        ImageDataset teacherSet,
        TeacherOutcome teacher,
        ImageDataset? studentSet,
        StudentOutcome? student,
        TorchSharp.torch.Device device
    )
    {
        var teacherScored = teacherSet.HasReports && teacher.TwinShards.Count == 0 ? teacherSet : null;
        var studentScored = studentSet is { HasReports: true } && student!.TwinShards.Count == 0 ? studentSet : null;
        if (teacherScored is null && studentScored is null)
            return null;
        using var reader = PromptReader.For(datasets.Get(spec.Dataset, DatasetSplit.Train), device);
        if (reader is null)
            return null;
        var test = datasets.Get(spec.Dataset, DatasetSplit.Test);
        return new PromptAgreementNumbers(
            test.HasReports ? reader.Score(test) : null,
            teacherScored is null ? null : reader.Score(teacherScored),
            studentScored is null ? null : reader.Score(studentScored)
        );
    }

    /// <summary>The run's settings as far as they describe the method: no seeds, paths or ids.</summary>
    private static ReleasedSettings Settings(Inputs inputs)
    {
        var (spec, policy, withStudent) = (inputs.Spec, inputs.Policy, inputs.Student is not null);
        return new ReleasedSettings(
            spec.SampleCount,
            spec.Teacher.Steps,
            withStudent ? spec.Student.Steps : null,
            spec.Teacher.LearningRate,
            withStudent ? spec.Student.LearningRate : null,
            spec.Guidance,
            spec.Sampler.ToString(),
            spec.SamplerSteps,
            spec.Alpha,
            spec.EncoderSteps,
            spec.ClassifierSteps,
            spec.Canaries,
            policy.MinimumSamples,
            policy.MinimumCanaryRecall,
            policy.StudentFlaggedRateCeiling,
            spec.UsesTwins ? (spec.Diversity ?? new DiversityOptions()).ToTwinSettings() : null,
            inputs.PolicySetByRole,
            spec.VerifierSteps > 0
                ? new ReleasedVerifier(
                    spec.VerifierSteps,
                    spec.VerifierBatch,
                    spec.VerifierLookAlikes,
                    new PairVerifierConfig().Architecture
                )
                : null
        );
    }

    private static List<StageTiming> Timings(IReadOnlyList<StageStatus> stages) =>
        stages
            .Select(s => new StageTiming(
                s.Name,
                s.StartedAt,
                s.FinishedAt,
                s.FinishedAt is { } f && s.StartedAt is { } st ? (f - st).TotalSeconds : null,
                s.Detail
            ))
            .ToList();

    /// <summary>The twin statistics of all shards together (null for a plain sampling job).</summary>
    public static TwinStatistics? TwinTotals(IEnumerable<TwinStatistics> shards) =>
        shards.Aggregate((TwinStatistics?)null, (total, shard) => total?.Add(shard) ?? shard);

    private static AuditReport ReadAudit(string path) =>
        JsonSerializer.Deserialize<AuditReport>(File.ReadAllBytes(path), Json)!;

    private static CardDetails CardDetailsOf(ReleaseDescription? d) =>
        new(d?.DataSource, d?.IntendedUse, d?.OutOfScopeUse, d?.Licence, d?.Contact, d?.ClassNames);

    /// <param name="set">What the audited set is called in the shareable report (the audit's own name is an internal
    /// id).</param>
    private static PrivacyNumbers Privacy(AuditReport report, string set)
    {
        var m = report.Metrics;
        // The audit names the dataset by its path on the silos: the shareable report names it by role only.
        return new PrivacyNumbers(
            report.Summary with
            {
                Synthetic = set,
                Dataset = "real training set",
            },
            m.SyntheticNearestSimilarity,
            m.ControlNearestSimilarity,
            m.SinglingOut,
            m.HoldoutDistance,
            m.ExactCopies,
            m.NearExactCopies
        );
    }

    private static ClassifierEvaluation Evaluation(TrainingStatus classifier, int testCount) =>
        new(testCount, classifier.Metrics!["accuracy"], classifier.Metrics["macroAuc"]);

    /// <summary>What must never leave the data holder: which released file is which sample, and its nearest real
    /// records.</summary>
    private sealed record InternalReport(
        string Run,
        IReadOnlyList<InternalReleasedFile> ReleasedFiles,
        IReadOnlyList<string> TeacherSamplesFilteredOut,
        IReadOnlyList<TwinStatistics> TwinShards,
        ArtifactRef TeacherAuditReport,
        ArtifactRef? StudentAuditReport
    );

    private sealed record InternalReleasedFile(
        string File,
        string SampleId,
        IReadOnlyList<string> NearestRecordIds,
        IReadOnlyList<float> Scores
    );
}
