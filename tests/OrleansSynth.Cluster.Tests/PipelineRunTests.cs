using System.Text.Json;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>The whole privacy-distillation pipeline, driven by the coordinator, on two silos with reduced sizes.</summary>
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
        Assert.Equal(30 - audit.FlaggedSampleIds.Count, root.GetProperty("studentTrainingSamples").GetInt32());

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
}
