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
        // Stage grains are the cluster's own: a client follows them through the run's progress.
        var midway = await TwoSiloCluster.WaitFor(() => cluster.Progress(run, RunGrainIds.TeacherSamples(run)),
            p => p is { Done: >= 2 } or { State: not WorkState.Running }, TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(200));
        Assert.True(midway is { State: WorkState.Running } && midway.Done < midway.Total, $"not mid-sampling: {midway}");
        cluster.KillSilo(0);
        await CompletesByItselfAsync(run);
    }

    [Fact]
    public async Task ARunWhoseTrainingSiloIsKilledResumesTrainingOnTheSurvivor()
    {
        const string run = "killed-mid-training";
        await cluster.RestoreSilosAsync();
        await SubmitAsync(run, teacherSteps: 300, encoderSteps: 20);
        // Past step 30 its checkpoint of step 20 exists (checkpoints every 10 steps).
        var midway = await TwoSiloCluster.WaitFor(() => cluster.Progress(run, RunGrainIds.Teacher(run)),
            p => p is { Done: >= 30 } or { State: WorkState.Completed or WorkState.Failed }, TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(200));
        Assert.True(midway is { State: WorkState.Running } && midway.Done < 300, $"not mid-training: {midway}");
        await cluster.KillSiloHostingAsync(cluster.Grains.GetGrain<ITrainingRunGrain>(RunGrainIds.Teacher(run)));
        await CompletesByItselfAsync(run);
        Assert.Equal(new WorkProgress(RunGrainIds.Teacher(run), WorkState.Completed, 300, 300, "steps"), await cluster.Progress(run, RunGrainIds.Teacher(run)));
        var trained = (await cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run).GetPipelineStatus()).Stages.Single(s => s.Name == "train teacher");
        Assert.True(trained.Detail?.Contains("resumed") == true, $"the training did not resume from a checkpoint: {trained.Detail}");
    }

    [Fact]
    public async Task ARunWhoseAuditSiloIsKilledMidAuditCompletesWithAConsistentAudit()
    {
        const string run = "killed-mid-audit";
        await cluster.RestoreSilosAsync();
        // A longer encoder training keeps the audit busy long enough to be killed in the middle.
        await SubmitAsync(run, teacherSteps: 20, encoderSteps: 400);
        var running = await TwoSiloCluster.WaitFor(() => cluster.Progress(run, RunGrainIds.TeacherAudit(run)), p => p is not null,
            TimeSpan.FromMinutes(6), TimeSpan.FromMilliseconds(200));
        Assert.True(running is { State: WorkState.Running }, $"not mid-audit: {running}");
        await cluster.KillSiloHostingAsync(cluster.Grains.GetGrain<IPrivacyAuditGrain>(RunGrainIds.TeacherAudit(run)));
        await CompletesByItselfAsync(run);
    }

    private async Task SubmitAsync(string run, int teacherSteps, int encoderSteps)
    {
        var diffusion = new TrainingRunSpec("", Steps: teacherSteps, BatchSize: 16, BaseChannels: 16, Timesteps: 50, CheckpointEvery: 10);
        await cluster.Submit(cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run), new PipelineSpec(cluster.Dataset, diffusion, diffusion with { Steps = 10 },
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

        // The gate's evidence, as the operator reads it: every sample audited once, none lost or doubled, every tile scanned.
        var evidence = (await coordinator.GetDecisions()).Last(d => d.Open).Evidence;
        Assert.Equal(Samples, evidence.SamplesRemaining + evidence.FlaggedSamples);
        Assert.Equal(evidence.TilesTotal, evidence.TilesDone);
        var audited = (await coordinator.GetPipelineStatus()).Stages.Single(s => s.Name == "audit teacher samples").Detail;
        Assert.Contains($" of {Samples} flagged", audited);
        Assert.Equal(new WorkProgress(RunGrainIds.TeacherSamples(run), WorkState.Completed, Samples / 5, Samples / 5, "shards"),
            await cluster.Progress(run, RunGrainIds.TeacherSamples(run)));
    }
}
