using System.Text.Json;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>The whole pipeline, driven by the coordinator, on two silos with reduced sizes: each strategy.</summary>
public sealed class PipelineRunTests(TwoSiloCluster cluster) : IClassFixture<TwoSiloCluster>
{
    [Fact]
    public async Task EveryStageFinishesAndTheReleaseHoldsOnlySyntheticData()
    {
        var output = Path.Combine(cluster.Root, "pipeline-out");
        var diffusion = new TrainingRunSpec("", Steps: 20, BatchSize: 16, BaseChannels: 16, Timesteps: 50, CheckpointEvery: 10);
        var spec = new PipelineSpec(cluster.Dataset, diffusion, diffusion, SampleCount: 30, ShardSize: 10,
            Gate: new PipelinePolicy(MinimumSamples: 5, RequireApproval: false), Output: output,
            DdimSteps: 4, EncoderSteps: 30, ClassifierSteps: 40, SyntheticTile: 16, RealTile: 512);
        var coordinator = cluster.Client.GetGrain<IPipelineCoordinatorGrain>("pipeline-e2e");
        await coordinator.Run(spec);
        var status = await TwoSiloCluster.WaitFor(coordinator.GetPipelineStatus, s => s.State != WorkState.Running, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(1));

        Assert.True(status.State == WorkState.Completed, status.Error);
        Assert.Equal(11, status.Stages.Count);
        Assert.All(status.Stages, s => Assert.Equal(WorkState.Completed, s.State));
        Assert.True(File.Exists(status.ReportPath));

        // The student's loader read synthetic bundles only.
        var student = await cluster.Client.GetGrain<ITrainingRunGrain>("pipeline-e2e/student").GetStatus();
        Assert.All(student.DataSources!, source => Assert.StartsWith("artifact:", source));

        // The filter removed exactly the flagged teacher samples.
        var audit = await cluster.Client.GetGrain<IPrivacyAuditGrain>("pipeline-e2e/teacher-audit").GetStatus();
        using var report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "release", "report.json")));
        var root = report.RootElement;
        Assert.Equal(audit.FlaggedSampleIds.Count, root.GetProperty("filteredOut").GetInt32());
        Assert.Equal(30 - audit.FlaggedSampleIds.Count, root.GetProperty("keptAfterFilter").GetInt32());

        foreach (var trainedOn in new[] { "real", "teacher", "student" })
        {
            var utility = root.GetProperty("utility").GetProperty(trainedOn);
            Assert.InRange(utility.GetProperty("accuracy").GetDouble(), 0.0, 1.0);
            Assert.InRange(utility.GetProperty("macroAuc").GetDouble(), 0.0, 1.0);
        }
        Assert.True(root.GetProperty("teacherFidelity").GetProperty("frechetDistance").GetDouble() >= 0);
        Assert.Equal(11, root.GetProperty("stages").GetArrayLength());

        var release = Path.Combine(output, "release");
        Assert.True(File.Exists(Path.Combine(release, "student.ckpt")));
        Assert.Equal(31, File.ReadAllLines(Path.Combine(release, "synthetic", "labels.csv")).Length);
        Assert.Contains("data:image/png;base64", File.ReadAllText(Path.Combine(release, "report.html")));
    }

    [Theory]
    [InlineData(PipelineStrategy.DiversityAware)]
    [InlineData(PipelineStrategy.DiversityAwareDistillation)]
    public async Task DiversityAwareRunsTwinEveryRecordOrCountItsSkip(PipelineStrategy strategy)
    {
        var run = $"pipeline-{strategy}";
        var output = Path.Combine(cluster.Root, run);
        var diffusion = new TrainingRunSpec("", Steps: 20, BatchSize: 16, BaseChannels: 16, Timesteps: 50, CheckpointEvery: 10);
        var spec = new PipelineSpec(cluster.Dataset, diffusion, diffusion, SampleCount: 24, ShardSize: 8,
            Gate: new PipelinePolicy(MinimumSamples: 1, RequireApproval: false), Output: output,
            DdimSteps: 4, EncoderSteps: 30, ClassifierSteps: 40, SyntheticTile: 16, RealTile: 512,
            Strategy: strategy, Diversity: new DiversityOptions(Candidates: 2, KeepSecondBest: true));
        var coordinator = cluster.Client.GetGrain<IPipelineCoordinatorGrain>(run);
        await coordinator.Run(spec);
        var status = await TwoSiloCluster.WaitFor(coordinator.GetPipelineStatus, s => s.State != WorkState.Running, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(1));

        Assert.True(status.State == WorkState.Completed, status.Error);
        var withStudent = strategy == PipelineStrategy.DiversityAwareDistillation;
        Assert.Equal(withStudent ? 12 : 9, status.Stages.Count);
        Assert.Contains(status.Stages, s => s.Name == "generate twins");

        // The teacher was conditioned on the real-data classifier's features.
        var teacher = await cluster.Client.GetGrain<ITrainingRunGrain>($"{run}/teacher").GetStatus();
        Assert.Contains(teacher.DataSources!, source => source.EndsWith("(feature extractor)"));

        // One twin per record (plus its extra), or a counted skip; the audit scanned exactly the twins.
        using var report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "release", "report.json")));
        var root = report.RootElement;
        var twins = root.GetProperty("twins");
        Assert.Equal(24, twins.GetProperty("records").GetInt32());
        Assert.Equal(24, twins.GetProperty("twins").GetInt32() + twins.GetProperty("skipped").GetInt32());
        Assert.Equal(twins.GetProperty("twins").GetInt32(), twins.GetProperty("extras").GetInt32());
        Assert.True(twins.GetProperty("candidatesDrawn").GetInt32() >= 24 * 2);
        var shards = root.GetProperty("twinShards").EnumerateArray().ToList();
        Assert.Equal(3, shards.Count); // records 0-7, 8-15, 16-23
        Assert.All(shards, shard => Assert.Equal(8, shard.GetProperty("records").GetInt32()));
        var produced = 2 * twins.GetProperty("twins").GetInt32();
        var audit = await cluster.Client.GetGrain<IPrivacyAuditGrain>($"{run}/teacher-audit").GetStatus();
        Assert.Equal(produced, audit.Summary!.Total);
        Assert.Equal(produced - audit.FlaggedSampleIds.Count, root.GetProperty("keptAfterFilter").GetInt32());

        var release = Path.Combine(output, "release");
        if (withStudent)
        {
            var student = await cluster.Client.GetGrain<ITrainingRunGrain>($"{run}/student").GetStatus();
            Assert.All(student.DataSources!, source => Assert.StartsWith("artifact:", source));
            Assert.True(File.Exists(Path.Combine(release, "student.ckpt")));
            Assert.InRange(root.GetProperty("utility").GetProperty("student").GetProperty("accuracy").GetDouble(), 0.0, 1.0);
        }
        else
        {
            // Without a student the release is the kept twins and no model: the teacher saw real records.
            Assert.False(File.Exists(Path.Combine(release, "student.ckpt")));
            Assert.Equal(JsonValueKind.Null, root.GetProperty("student").ValueKind);
            Assert.Equal(produced - audit.FlaggedSampleIds.Count + 1, File.ReadAllLines(Path.Combine(release, "synthetic", "labels.csv")).Length);
        }
        Assert.InRange(root.GetProperty("utility").GetProperty("teacher").GetProperty("accuracy").GetDouble(), 0.0, 1.0);
        Assert.Contains("Diversity-aware twins", File.ReadAllText(Path.Combine(release, "report.html")));
    }
}
