using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A silo process killed with SIGKILL in the middle of a pipeline's sampling, on a cluster over a real redis-server:
/// with no client calling afterwards, the run moves on by itself on the survivor and completes with exactly the
/// requested sample ids and an audit of exactly those.
/// </summary>
public sealed class SiloLossTests(RedisSiloProcesses cluster) : IClassFixture<RedisSiloProcesses>
{
    [Fact]
    public async Task ARunWhoseSiloIsKilledMidSamplingCompletesWithExactlyItsSamples()
    {
        const string run = "killed-mid-sampling";
        var coordinator = cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run);
        var diffusion = new TrainingRunSpec("", Steps: 20, BatchSize: 16, BaseChannels: 16, Timesteps: 50, CheckpointEvery: 10);
        await coordinator.Run(new PipelineSpec(cluster.Dataset, diffusion, diffusion with { Steps = 10 }, SampleCount: 60, ShardSize: 5,
            // 0 and false on purpose: fields equal to their type's default must survive Redis grain storage when the
            // coordinator moves silos (the provider's JSON once dropped them and they came back as the record's defaults).
            Gate: new PipelinePolicy(MinimumSamples: 1, RequireApproval: false, MinimumCanaryRecall: 0, StudentFlaggedRateCeiling: 1), Output: "out/killed",
            DdimSteps: 25, EncoderSteps: 20, ClassifierSteps: 10, SyntheticTile: 16, RealTile: 256, Canaries: 20));
        var sampling = cluster.Grains.GetGrain<ISamplingJobGrain>(RunGrainIds.TeacherSamples(run));
        var midway = await TwoSiloCluster.WaitFor(sampling.GetStatus, s => s.ShardsDone >= 2 || s.State != WorkState.NotStarted && s.State != WorkState.Running,
            TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(200));
        Assert.True(midway.State == WorkState.Running && midway.ShardsDone < midway.ShardsTotal, $"not mid-sampling: {midway.State}, {midway.ShardsDone}/{midway.ShardsTotal}");

        cluster.KillSilo(0);
        // Nobody calls the run until it should have moved on by itself (reminders fire every minute).
        await Task.Delay(TimeSpan.FromSeconds(90));

        var done = await TwoSiloCluster.WaitFor(async () =>
        {
            try { return await coordinator.GetPipelineStatus(); }
            catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException) { return null; }
        }, s => s is not null && s.State != WorkState.Running, TimeSpan.FromMinutes(8), TimeSpan.FromSeconds(2));
        Assert.True(done?.State == WorkState.Completed, $"{done?.State}: {done?.Error}\n{cluster.SiloOutput}");

        var samples = await sampling.GetStatus();
        var ids = samples.Shards.SelectMany(s => s.SampleIds).ToList();
        Assert.Equal(60, ids.Count);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"{RunGrainIds.TeacherSamples(run)}/{i:D6}").ToHashSet(), ids.ToHashSet());
        var audit = await cluster.Grains.GetGrain<IPrivacyAuditGrain>(RunGrainIds.TeacherAudit(run)).GetStatus();
        Assert.Equal(60, audit.Summary!.Total);
        Assert.Equal(audit.TilesTotal, audit.TilesDone);
    }
}
