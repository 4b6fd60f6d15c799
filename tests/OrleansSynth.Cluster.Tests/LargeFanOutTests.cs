using Microsoft.Extensions.DependencyInjection;
using OrleansSynth.Abstractions;
using OrleansSynth.Grains.Compute;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// Many small pieces of work on few compute slots: a sampling job of 200 shards and an audit of more than 200 tiles on
/// two silos with one compute slot each, all completing, with never more than two parts per slot queued or computing
/// (back-pressure: the jobs start parts as others end, instead of sending all of them at once).
/// </summary>
public sealed class LargeFanOutTests(TwoSiloCluster cluster) : IClassFixture<TwoSiloCluster>
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task TwoHundredShardsAndTwoHundredTilesCompleteOnTwoSlots()
    {
        var client = cluster.Client;
        await client.GetGrain<IDatasetGrain>(cluster.Dataset).Register();
        var teacher = cluster.Grains.GetGrain<ITrainingRunGrain>("fan-out-teacher");
        await teacher.Start(
            new TrainingRunSpec(
                cluster.Dataset,
                Steps: 5,
                BatchSize: 8,
                BaseChannels: 16,
                Timesteps: 20,
                CheckpointEvery: 5
            )
        );
        var trained = await TwoSiloCluster.WaitFor(
            teacher.GetStatus,
            s => s.State is WorkState.Completed or WorkState.Failed,
            Patience
        );
        Assert.True(trained.State == WorkState.Completed, trained.Error);

        // 2 silos x 1 slot x PartsInFlightPerSlot (2). A fan-out without back-pressure queues all 200 at once.
        const int bound = 4;
        using var watch = new ComputeLoadWatch(
            cluster.Cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<ComputeWorker>())
        );

        var job = cluster.Grains.GetGrain<ISamplingJobGrain>("fan-out-samples");
        await job.Start(new SamplingJobSpec(trained.Checkpoint!, Count: 200, ShardSize: 1, SamplerSteps: 2));
        var sampled = await TwoSiloCluster.WaitFor(
            job.GetStatus,
            s => s.State is WorkState.Completed or WorkState.Failed,
            Patience
        );
        Assert.True(sampled.State == WorkState.Completed, sampled.Error);
        Assert.Equal((200, 200), (sampled.ShardsTotal, sampled.ShardsDone));
        Assert.Equal(
            Enumerable.Range(0, 200).Select(i => $"fan-out-samples/{i:D6}"),
            sampled.Shards.SelectMany(s => s.SampleIds).Order()
        );
        Assert.InRange(watch.MostInFlight, 1, bound);

        var audit = cluster.Grains.GetGrain<IPrivacyAuditGrain>("fan-out-audit");
        // (200 samples + 20 canaries) / 6 rows = 37 synthetic tiles x 1500 real / 256 = 6 real blocks: 222 tiles.
        await audit.Start(
            new AuditSpec(
                cluster.Dataset,
                sampled.Shards.Select(s => s.Samples).ToList(),
                SyntheticTile: 6,
                RealTile: 256,
                EncoderSteps: 20,
                Canaries: 20
            )
        );
        var audited = await TwoSiloCluster.WaitFor(
            audit.GetStatus,
            s => s.State is WorkState.Completed or WorkState.Failed,
            Patience
        );
        Assert.True(audited.State == WorkState.Completed, audited.Error);
        Assert.Equal(222, audited.TilesTotal);
        Assert.Equal(audited.TilesTotal, audited.TilesDone);
        Assert.Equal(200, audited.Summary!.Total);
        // The audit's own preparation and reduction take a slot too, but never while tiles are in flight.
        Assert.InRange(watch.MostInFlight, 1, bound);
    }
}
