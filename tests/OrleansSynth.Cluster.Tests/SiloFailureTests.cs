using Microsoft.Extensions.DependencyInjection;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.ML.Data;

namespace OrleansSynth.Cluster.Tests;

/// <summary>Stopping a silo in the middle of work: the survivor finishes it, from checkpoints, without losing or
/// duplicating samples.</summary>
public sealed class SiloFailureTests(TwoSiloCluster cluster) : IClassFixture<TwoSiloCluster>
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(6);

    private IClusterClient Client => cluster.Client;

    private IGrainFactory Grains => cluster.Grains;

    [Fact]
    public async Task TrainingResumesFromItsCheckpointOnTheSurvivor()
    {
        await EnsureTwoSilos();
        await Client.GetGrain<IDatasetGrain>(cluster.Dataset).Register();
        var run = Grains.GetGrain<ITrainingRunGrain>("survives-silo-loss");
        await run.Start(
            new TrainingRunSpec(
                cluster.Dataset,
                Steps: 200,
                BatchSize: 16,
                BaseChannels: 16,
                Timesteps: 50,
                CheckpointEvery: 25
            )
        );
        var before = await TwoSiloCluster.WaitFor(
            run.GetStatus,
            s => s.CheckpointStep >= 50 || s.State != WorkState.Running,
            Patience
        );
        Assert.Equal(WorkState.Running, before.State);

        await cluster.Cluster.StopSiloAsync(SiloHosting(before.Silo!));

        // A reference made through the stopped silo's factory is gone with it: ask through a survivor's.
        run = Grains.GetGrain<ITrainingRunGrain>("survives-silo-loss");
        var lowest = int.MaxValue;
        var after = await TwoSiloCluster.WaitFor(
            run.GetStatus,
            s =>
            {
                lowest = Math.Min(lowest, s.Step);
                return s.State != WorkState.Running;
            },
            Patience
        );
        Assert.True(after.State == WorkState.Completed, after.Error);
        Assert.Equal(200, after.Step);
        Assert.True(after.Resumes >= 1, "the run should have resumed after its silo stopped");
        Assert.NotEqual(before.Silo, after.Silo);
        Assert.True(
            lowest >= before.CheckpointStep,
            $"step went back to {lowest}, below the checkpoint at {before.CheckpointStep}"
        );
    }

    [Fact]
    public async Task SamplingCountStaysExactWhenASiloStopsMidJob()
    {
        await EnsureTwoSilos();
        await Client.GetGrain<IDatasetGrain>(cluster.Dataset).Register();
        var teacher = Grains.GetGrain<ITrainingRunGrain>("sampling-teacher");
        await teacher.Start(
            new TrainingRunSpec(
                cluster.Dataset,
                Steps: 5,
                BatchSize: 8,
                BaseChannels: 16,
                Timesteps: 50,
                CheckpointEvery: 5
            )
        );
        var trained = await TwoSiloCluster.WaitFor(teacher.GetStatus, s => s.State != WorkState.Running, Patience);
        Assert.True(trained.State == WorkState.Completed, trained.Error);

        var job = Grains.GetGrain<ISamplingJobGrain>("interrupted-samples");
        // Enough shards that the job is still running when the first one is seen done: 12 small shards could all finish
        // between two polls on a fast machine, and the stop would then come after the job, testing nothing.
        await job.Start(new SamplingJobSpec(trained.Checkpoint!, Count: 192, ShardSize: 4, SamplerSteps: 10));
        var partial = await TwoSiloCluster.WaitFor(
            job.GetStatus,
            s => s.ShardsDone >= 1 || s.State != WorkState.Running,
            Patience,
            TimeSpan.FromMilliseconds(50)
        );
        Assert.Equal(WorkState.Running, partial.State);
        await cluster.Cluster.StopSiloAsync(cluster.Cluster.Silos[^1]);

        var done = await TwoSiloCluster.WaitFor(job.GetStatus, s => s.State != WorkState.Running, Patience);
        Assert.True(done.State == WorkState.Completed, done.Error);
        var store = cluster.Cluster.Silos[0].ServiceProvider.GetRequiredService<IArtifactStore>();
        var ids = new List<string>();
        foreach (var shard in done.Shards)
            ids.AddRange(SampleBundle.Read(await store.GetLocalPathAsync(shard.Samples)).RecordIds);
        Assert.Equal(Enumerable.Range(0, 192).Select(i => $"interrupted-samples/{i:D6}"), ids.Order());
    }

    private Orleans.TestingHost.InProcessSiloHandle SiloHosting(string address) =>
        cluster.Cluster.Silos.Single(s => s.SiloAddress.ToString() == address);

    private async Task EnsureTwoSilos()
    {
        while (cluster.Cluster.Silos.Count < 2)
            await cluster.Cluster.StartAdditionalSiloAsync();
    }
}
