using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A silo process killed with SIGKILL in the middle of a pipeline's training, sampling or audit, on a cluster over a
/// real redis-server: with no client calling afterwards, the run moves on by itself on the survivor and completes with
/// exactly the requested sample ids and an audit of exactly those.
/// </summary>
public sealed class SiloLossTests(RedisSiloProcesses cluster) : IClassFixture<RedisSiloProcesses>
{
    private const int Samples = 60;

    [Fact]
    public async Task ARunWhoseSiloIsKilledMidSamplingCompletesWithExactlyItsSamples()
    {
        const string run = "killed-mid-sampling";
        await cluster.RestoreSilosAsync();
        await SubmitAsync(run, teacherSteps: 20, encoderSteps: 20);
        var sampling = cluster.Grains.GetGrain<ISamplingJobGrain>(RunGrainIds.TeacherSamples(run));
        var midway = await TwoSiloCluster.WaitFor(sampling.GetStatus, s => s.ShardsDone >= 2 || s.State != WorkState.NotStarted && s.State != WorkState.Running,
            TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(200));
        Assert.True(midway.State == WorkState.Running && midway.ShardsDone < midway.ShardsTotal, $"not mid-sampling: {midway.State}, {midway.ShardsDone}/{midway.ShardsTotal}");
        cluster.KillSilo(0);
        await CompletesByItselfAsync(run);
    }

    [Fact]
    public async Task ARunWhoseTrainingSiloIsKilledResumesTrainingOnTheSurvivor()
    {
        const string run = "killed-mid-training";
        await cluster.RestoreSilosAsync();
        await SubmitAsync(run, teacherSteps: 300, encoderSteps: 20);
        var teacher = cluster.Grains.GetGrain<ITrainingRunGrain>(RunGrainIds.Teacher(run));
        var midway = await TwoSiloCluster.WaitFor(teacher.GetStatus, s => s.CheckpointStep >= 20 || s.State is WorkState.Completed or WorkState.Failed,
            TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(200));
        Assert.True(midway.State == WorkState.Running && midway.Step < 300, $"not mid-training: {midway.State}, step {midway.Step}");
        await cluster.KillSiloHostingAsync(teacher);
        await CompletesByItselfAsync(run);
        var trained = await teacher.GetStatus();
        Assert.Equal(300, trained.Step);
        Assert.True(trained.Resumes >= 1, "the training did not resume from a checkpoint");
    }

    [Fact]
    public async Task ARunWhoseAuditSiloIsKilledMidAuditCompletesWithAConsistentAudit()
    {
        const string run = "killed-mid-audit";
        await cluster.RestoreSilosAsync();
        // A longer encoder training keeps the audit busy long enough to be killed in the middle.
        await SubmitAsync(run, teacherSteps: 20, encoderSteps: 400);
        var audit = cluster.Grains.GetGrain<IPrivacyAuditGrain>(RunGrainIds.TeacherAudit(run));
        var running = await TwoSiloCluster.WaitFor(audit.GetStatus, s => s.State != WorkState.NotStarted, TimeSpan.FromMinutes(6), TimeSpan.FromMilliseconds(200));
        Assert.True(running.State == WorkState.Running, $"not mid-audit: {running.State}");
        await cluster.KillSiloHostingAsync(audit);
        await CompletesByItselfAsync(run);
    }

    private async Task SubmitAsync(string run, int teacherSteps, int encoderSteps)
    {
        var diffusion = new TrainingRunSpec("", Steps: teacherSteps, BatchSize: 16, BaseChannels: 16, Timesteps: 50, CheckpointEvery: 10);
        await cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run).Run(new PipelineSpec(cluster.Dataset, diffusion, diffusion with { Steps = 10 },
            SampleCount: Samples, ShardSize: 5,
            // 0 and false on purpose: fields equal to their type's default must survive Redis grain storage when the
            // coordinator moves silos (the provider's JSON once dropped them and they came back as the record's defaults).
            Gate: new PipelinePolicy(MinimumSamples: 1, RequireApproval: false, MinimumCanaryRecall: 0, StudentFlaggedRateCeiling: 1), Output: $"out/{run}",
            SamplerSteps: 25, EncoderSteps: encoderSteps, ClassifierSteps: 10, SyntheticTile: 16, RealTile: 256, Canaries: 20));
    }

    /// <summary>Nobody calls the run for 90 s (reminders fire every minute); then it completes with exactly its samples and their audit.</summary>
    private async Task CompletesByItselfAsync(string run)
    {
        await Task.Delay(TimeSpan.FromSeconds(90));
        var coordinator = cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run);
        var done = await TwoSiloCluster.WaitFor(async () =>
        {
            try { return await coordinator.GetPipelineStatus(); }
            catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or Orleans.Runtime.Messaging.ConnectionFailedException) { return null; }
        }, s => s is not null && s.State != WorkState.Running, TimeSpan.FromMinutes(8), TimeSpan.FromSeconds(2));
        Assert.True(done?.State == WorkState.Completed, $"{done?.State}: {done?.Error}\n{cluster.SiloOutput}");

        var samples = await cluster.Grains.GetGrain<ISamplingJobGrain>(RunGrainIds.TeacherSamples(run)).GetStatus();
        var ids = samples.Shards.SelectMany(s => s.SampleIds).ToList();
        Assert.Equal(Samples, ids.Count);
        Assert.Equal(Enumerable.Range(0, Samples).Select(i => $"{RunGrainIds.TeacherSamples(run)}/{i:D6}").ToHashSet(), ids.ToHashSet());
        var audit = await cluster.Grains.GetGrain<IPrivacyAuditGrain>(RunGrainIds.TeacherAudit(run)).GetStatus();
        Assert.Equal(Samples, audit.Summary!.Total);
        Assert.Equal(audit.TilesTotal, audit.TilesDone);
    }
}
