using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// An operator's cancel, whichever stage it reaches, report and release included: the run ends cancelled and nothing
/// is released, not even the files the stage was writing when the cancel came.
/// </summary>
public sealed class CancelledRunTests(TwoSiloCluster cluster) : IClassFixture<TwoSiloCluster>
{
    [Theory]
    [InlineData("sample teacher")]
    [InlineData("audit teacher samples")]
    [InlineData("train student")]
    [InlineData("report and release")]
    public async Task ACancelInAStageLeavesNothingReleased(string stage)
    {
        var run = "cancelled-in-" + stage.Replace(' ', '-');
        var diffusion = new TrainingRunSpec(
            "",
            Steps: 10,
            BatchSize: 16,
            BaseChannels: 16,
            Timesteps: 50,
            CheckpointEvery: 5
        );
        var coordinator = cluster.Client.GetGrain<IPipelineCoordinatorGrain>(run);
        await cluster.Submit(
            coordinator,
            new PipelineSpec(
                cluster.Dataset,
                diffusion,
                diffusion,
                SampleCount: 20,
                ShardSize: 5,
                Gate: new PipelinePolicy(
                    MinimumSamples: 1,
                    RequireApproval: false,
                    MinimumCanaryRecall: 0,
                    StudentFlaggedRateCeiling: 1
                ),
                Output: $"out/{run}",
                SamplerSteps: 3,
                EncoderSteps: 10,
                ClassifierSteps: 10,
                SyntheticTile: 16,
                RealTile: 512,
                Canaries: 10
            )
        );

        var reached = await TwoSiloCluster.WaitFor(
            coordinator.GetPipelineStatus,
            s => s.State != WorkState.Running || s.Stages.Any(x => x.Name == stage && x.State == WorkState.Running),
            TimeSpan.FromMinutes(6),
            TimeSpan.FromMilliseconds(20)
        );
        Assert.True(
            reached.State == WorkState.Running,
            $"the run ended before '{stage}': {reached.State} {reached.Error}"
        );
        await coordinator.Cancel();

        // Whatever the stage was doing finishes or stops; the run stays cancelled and publishes nothing.
        await Task.Delay(TimeSpan.FromSeconds(10));
        var after = await coordinator.GetPipelineStatus();
        Assert.Equal(WorkState.Cancelled, after.State);
        Assert.Null(await coordinator.GetRelease());
        Assert.Null(after.ReportFile);
    }
}
