using System.Text.Json;
using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Evaluation;
using OrleansSynth.ML.Imaging;
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
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private TaskCompletionSource _approved = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _pipeline;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        KeepActiveWhile(() => state.State.PipelineState == WorkState.Running);
        if (state.State.ApprovedBy is not null) _approved.TrySetResult();
        if (state.State.PipelineState == WorkState.Running) _pipeline = DriveAsync();
        return Task.CompletedTask;
    }

    public async Task<PipelineStatus> Run(PipelineSpec spec)
    {
        if (state.State.Spec is not null) return PipelineSnapshot();
        if (spec.SampleCount < 1 || spec.ShardSize < 1) throw new ArgumentOutOfRangeException(nameof(spec), "SampleCount and ShardSize must be positive.");
        if (string.IsNullOrWhiteSpace(spec.Output)) throw new ArgumentException("The pipeline needs an output folder.", nameof(spec));
        state.State.Spec = spec;
        state.State.Policy = spec.Gate;
        state.State.PipelineState = WorkState.Running;
        await state.WriteStateAsync();
        _pipeline = DriveAsync();
        return PipelineSnapshot();
    }

    public Task<PipelineStatus> GetPipelineStatus() => Task.FromResult(PipelineSnapshot());

    private PipelineStatus PipelineSnapshot() =>
        new(state.State.PipelineState, state.State.Stages.ToList(), state.State.ReportPath, state.State.Error);

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
            var teacher = await Stage("train teacher", () => Train($"{run}/teacher", spec.Teacher with { Dataset = spec.Dataset, Kind = TrainingKind.Diffusion, Synthetic = null }));
            var classCounts = spec.MatchRealLabels ? dataset.TrainLabelCounts : null;
            var teacherSamples = await Stage("sample teacher", () => Sample($"{run}/teacher-samples", teacher.Checkpoint!, spec, classCounts));
            var teacherBundles = teacherSamples.Shards.Select(s => s.Samples).ToList();
            var teacherIds = Enumerable.Range(0, spec.SampleCount).Select(i => Sampling.SamplingShardGrain.SampleId($"{run}/teacher-samples", i)).ToList();
            var teacherAudit = await Stage("audit teacher samples", () => Audit($"{run}/teacher-audit", teacherBundles, spec));

            if (state.State.AuditId != $"{run}/teacher-audit") await AttachAudit($"{run}/teacher-audit", teacherIds, teacherBundles);
            var filtered = await Stage("filter flagged samples", async () =>
            {
                var set = await ApplyFilter();
                return (set, $"removed {set.RemovedSampleIds.Count}, kept {set.KeptSampleIds.Count}");
            });
            await Stage("distillation gate", async () =>
            {
                var decision = await RequestDistillation("pipeline");
                while (!decision.Open)
                {
                    if (decision.Reasons.Count != 1 || !decision.Evidence.ApprovalRequired || decision.Evidence.ApprovedBy is not null)
                        throw new InvalidOperationException($"Distillation refused: {string.Join("; ", decision.Reasons)}.");
                    SetStageDetail("distillation gate", "waiting for approval");
                    await _approved.Task;
                    decision = await RequestDistillation("pipeline");
                }
                return (decision, decision.Evidence.ApprovedBy is { } who ? $"open, approved by {who}" : "open");
            });
            var student = await Stage("train student", async () =>
            {
                var status = await GrainFactory.GetGrain<ITrainingRunGrain>($"{run}/student").GetStatus();
                if (status.State == WorkState.NotStarted) await StartStudent($"{run}/student", spec.Student with { Kind = TrainingKind.Diffusion }, "pipeline");
                return await WaitForTraining($"{run}/student");
            });
            var studentSamples = await Stage("sample student", () => Sample($"{run}/student-samples", student.Checkpoint!, spec, classCounts));
            var studentBundles = studentSamples.Shards.Select(s => s.Samples).ToList();
            var studentIds = Enumerable.Range(0, spec.SampleCount).Select(i => Sampling.SamplingShardGrain.SampleId($"{run}/student-samples", i)).ToList();
            var studentAudit = await Stage("audit student samples", () => Audit($"{run}/student-audit", studentBundles, spec));

            var classifiers = await Stage("utility classifiers", async () =>
            {
                var template = new TrainingRunSpec(spec.Dataset, spec.ClassifierSteps, BatchSize: 128, LearningRate: 1e-3, CheckpointEvery: 500, Kind: TrainingKind.Classifier);
                var all = await Task.WhenAll(
                    Train($"{run}/classifier-real", template),
                    Train($"{run}/classifier-teacher", template with { Synthetic = new SyntheticTrainingSet(teacherBundles, teacherIds) }),
                    Train($"{run}/classifier-student", template with { Synthetic = new SyntheticTrainingSet(studentBundles, studentIds) }));
                return (all, string.Join(", ", all.Select(c => $"{c.Metrics!["accuracy"]:P1}")));
            });

            var reportPath = await Stage("report and release", async () =>
            {
                var path = await WriteRelease(run, spec, dataset, teacher, student, teacherAudit, studentAudit, classifiers, filtered, teacherBundles, studentBundles);
                return (path, path);
            });
            state.State.ReportPath = reportPath;
            state.State.PipelineState = WorkState.Completed;
        }
        catch (Exception e)
        {
            state.State.PipelineState = WorkState.Failed;
            state.State.Error = e.Message;
            LogPipelineFailed(e, run);
        }
        await state.WriteStateAsync();
    }

    /// <summary>Runs one stage, recording when it started and finished; a stage that finished before is run again cheaply (its grains remember).</summary>
    private async Task<T> Stage<T>(string name, Func<Task<(T Result, string Detail)>> body)
    {
        var started = DateTimeOffset.UtcNow;
        var previous = state.State.Stages.FirstOrDefault(s => s.Name == name);
        ReplaceStage(new StageStatus(name, WorkState.Running, previous?.StartedAt ?? started, null, previous?.Detail));
        await state.WriteStateAsync();
        var (result, detail) = await body();
        var finished = previous is { State: WorkState.Completed } ? previous : new StageStatus(name, WorkState.Completed, previous?.StartedAt ?? started, DateTimeOffset.UtcNow, detail);
        ReplaceStage(finished);
        await state.WriteStateAsync();
        LogStage(this.GetPrimaryKeyString(), name, detail);
        return result;
    }

    private Task<T> Stage<T>(string name, Func<Task<T>> body) where T : class =>
        Stage(name, async () => { var result = await body(); return (result, Describe(result)); });

    private static string Describe(object result) => result switch
    {
        TrainingStatus t => $"{t.Step} steps" + (t.Metrics is { } m ? ", " + string.Join(", ", m.Select(kv => $"{kv.Key} {kv.Value:F3}")) : ""),
        SamplingJobStatus s => $"{s.ShardsDone} shards",
        AuditStatus a => $"{a.Summary!.Flagged} of {a.Summary.Total} flagged ({a.Summary.Rate:P2}), {a.TilesTotal} tiles",
        _ => "",
    };

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

    private async Task<TrainingStatus> WaitForTraining(string runId)
    {
        var grain = GrainFactory.GetGrain<ITrainingRunGrain>(runId);
        while (true)
        {
            var status = await grain.GetStatus();
            if (status.State == WorkState.Completed) return status;
            if (status.State == WorkState.Failed) throw new InvalidOperationException($"training run {runId} failed: {status.Error}");
            await Task.Delay(PollInterval);
        }
    }

    private async Task<SamplingJobStatus> Sample(string jobId, ArtifactRef checkpoint, PipelineSpec spec, IReadOnlyList<int>? classCounts)
    {
        var job = GrainFactory.GetGrain<ISamplingJobGrain>(jobId);
        await job.Start(new SamplingJobSpec(checkpoint, spec.SampleCount, spec.ShardSize, spec.Teacher.Seed, spec.Guidance, spec.DdimSteps, classCounts));
        while (true)
        {
            var status = await job.GetStatus();
            if (status.State == WorkState.Completed) return status;
            if (status.State == WorkState.Failed) throw new InvalidOperationException($"sampling job {jobId} failed: {status.Error}");
            await Task.Delay(PollInterval);
        }
    }

    private async Task<AuditStatus> Audit(string auditId, IReadOnlyList<ArtifactRef> bundles, PipelineSpec spec)
    {
        var audit = GrainFactory.GetGrain<IPrivacyAuditGrain>(auditId);
        await audit.Start(new AuditSpec(spec.Dataset, bundles, spec.Alpha, 5, spec.SyntheticTile, spec.RealTile, spec.EncoderSteps));
        while (true)
        {
            var status = await audit.GetStatus();
            if (status.State == WorkState.Completed) return status;
            if (status.State == WorkState.Failed) throw new InvalidOperationException($"audit {auditId} failed: {status.Error}");
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>
    /// Fidelity on the compute worker, then the release folder: the student checkpoint, the student's synthetic set
    /// (PNGs and labels.csv) and the shareable report (JSON and HTML). Nothing in it is a real image.
    /// </summary>
    private async Task<string> WriteRelease(string run, PipelineSpec spec, DatasetInfo dataset, TrainingStatus teacher, TrainingStatus student,
        AuditStatus teacherAudit, AuditStatus studentAudit, TrainingStatus[] classifiers, FilteredSet filtered,
        IReadOnlyList<ArtifactRef> teacherBundles, IReadOnlyList<ArtifactRef> studentBundles)
    {
        var release = Path.GetFullPath(Path.Combine(spec.Output, "release"));
        Directory.CreateDirectory(release);
        var paths = new Dictionary<string, string>
        {
            ["teacher"] = await artifacts.GetLocalPathAsync(teacher.Checkpoint!),
            ["student"] = await artifacts.GetLocalPathAsync(student.Checkpoint!),
            ["classifier"] = await artifacts.GetLocalPathAsync(classifiers[0].Checkpoint!),
            ["teacherAudit"] = await artifacts.GetLocalPathAsync(teacherAudit.Report!),
            ["studentAudit"] = await artifacts.GetLocalPathAsync(studentAudit.Report!),
        };
        var teacherBundlePaths = new List<string>();
        foreach (var b in teacherBundles) teacherBundlePaths.Add(await artifacts.GetLocalPathAsync(b));
        var studentBundlePaths = new List<string>();
        foreach (var b in studentBundles) studentBundlePaths.Add(await artifacts.GetLocalPathAsync(b));
        var stages = state.State.Stages.Select(s => new StageTiming(s.Name, s.StartedAt, s.FinishedAt,
            s.FinishedAt is { } f && s.StartedAt is { } st ? (f - st).TotalSeconds : null, s.Detail)).ToList();

        return await compute.RunAsync($"report {run}", _ =>
        {
            var test = datasets.Get(spec.Dataset, DatasetSplit.Test);
            var teacherSet = SampleBundle.Concat("teacher", teacherBundlePaths.Select(SampleBundle.Read).ToList());
            var studentSet = SampleBundle.Concat("student", studentBundlePaths.Select(SampleBundle.Read).ToList());
            using var classifier = ClassifierTrainer.LoadModel(paths["classifier"]);
            using var realFeatures = Features(classifier, test);
            using var teacherFeatures = Features(classifier, teacherSet);
            using var studentFeatures = Features(classifier, studentSet);
            FidelityNumbers Fidelity(Tensor synthetic) => new(FrechetDistance.Compute(realFeatures, synthetic), ManifoldMetrics.Compute(realFeatures, synthetic));

            var report = new PipelineReport(
                run, spec, dataset.ContentHash,
                new Dictionary<string, string>
                {
                    ["teacherCheckpoint"] = teacher.Checkpoint!.Sha256, ["studentCheckpoint"] = student.Checkpoint!.Sha256,
                    ["teacherAuditReport"] = teacherAudit.Report!.Sha256, ["studentAuditReport"] = studentAudit.Report!.Sha256,
                    ["studentSamples"] = string.Join(",", studentBundles.Select(b => b.Sha256)),
                },
                stages,
                Privacy(paths["teacherAudit"]), Privacy(paths["studentAudit"]),
                new UtilityNumbers(Evaluation(classifiers[0]), Evaluation(classifiers[1]), Evaluation(classifiers[2])),
                Fidelity(teacherFeatures), Fidelity(studentFeatures),
                DiffusionCheckpoint.ReadHeader(paths["teacher"]).LossHistory, DiffusionCheckpoint.ReadHeader(paths["student"]).LossHistory,
                filtered.RemovedSampleIds.Count, filtered.KeptSampleIds.Count);

            File.Copy(paths["student"], Path.Combine(release, "student.ckpt"), overwrite: true);
            WriteSyntheticSet(studentSet, Path.Combine(release, "synthetic"));
            File.WriteAllBytes(Path.Combine(release, "report.json"), JsonSerializer.SerializeToUtf8Bytes(report, Json));
            var html = HtmlReport.Render(report, Grid(teacherSet), Grid(studentSet));
            File.WriteAllText(Path.Combine(release, "report.html"), html);
            return Path.Combine(release, "report.html");
        });
    }

    private static PrivacyNumbers Privacy(string auditReportPath)
    {
        var report = JsonSerializer.Deserialize<AuditReport>(File.ReadAllBytes(auditReportPath), Json)!;
        var m = report.Metrics;
        return new PrivacyNumbers(report.Summary, m.SyntheticNearestSimilarity, m.ControlNearestSimilarity, m.SinglingOut, m.ExactCopies, m.NearExactCopies);
    }

    private static ClassifierEvaluation Evaluation(TrainingStatus classifier) =>
        new(0, classifier.Metrics!["accuracy"], classifier.Metrics["macroAuc"]);

    private static Tensor Features(ImageClassifier classifier, ImageDataset data)
    {
        using var noGrad = no_grad();
        var all = Enumerable.Range(0, data.Count).ToArray();
        var parts = new List<Tensor>();
        for (var start = 0; start < data.Count; start += 500)
        {
            using var scope = NewDisposeScope();
            parts.Add(classifier.Features(data.Batch(all[start..Math.Min(start + 500, data.Count)]).Images).MoveToOuterDisposeScope());
        }
        var features = cat(parts);
        foreach (var part in parts) part.Dispose();
        return features;
    }

    /// <summary>Up to 10 samples per class, one row per class.</summary>
    private static byte[] Grid(ImageDataset samples)
    {
        var rows = Enumerable.Range(0, samples.NumClasses)
            .SelectMany(c => Enumerable.Range(0, samples.Count).Where(i => samples.Labels[i] == c).Take(10))
            .ToArray();
        var (images, _) = samples.Batch(rows);
        using (images) return ImageTensors.Grid(images, columns: 10, scale: 2).ToPng();
    }

    private static void WriteSyntheticSet(ImageDataset samples, string folder)
    {
        Directory.CreateDirectory(folder);
        var lines = new List<string> { "file,label" };
        for (var i = 0; i < samples.Count; i++)
        {
            var file = $"{i:D6}.png";
            new PngImage(samples.ImageAt(i).ToArray(), samples.Channels, samples.Height, samples.Width).Write(Path.Combine(folder, file));
            lines.Add($"{file},{samples.Labels[i]}");
        }
        File.WriteAllLines(Path.Combine(folder, "labels.csv"), lines);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Run}: stage '{Stage}' done: {Detail}")]
    private partial void LogStage(string run, string stage, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Pipeline {Run} failed")]
    private partial void LogPipelineFailed(Exception exception, string run);
}
