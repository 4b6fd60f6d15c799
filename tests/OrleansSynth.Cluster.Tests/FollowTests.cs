using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

public sealed class FollowTests(TwoSiloCluster cluster) : IClassFixture<TwoSiloCluster>
{
    [Fact]
    public async Task FollowingARunStreamsProgressUntilItCompletes()
    {
        await cluster.Client.GetGrain<IDatasetGrain>(cluster.Dataset).Register();
        var run = cluster.Grains.GetGrain<ITrainingRunGrain>("followed");
        await run.Start(
            new TrainingRunSpec(
                cluster.Dataset,
                Steps: 120,
                BatchSize: 16,
                BaseChannels: 16,
                Timesteps: 50,
                CheckpointEvery: 40
            )
        );

        var seen = new List<TrainingStatus>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await foreach (var status in run.Follow(timeout.Token))
            seen.Add(status);

        Assert.Equal(WorkState.Completed, seen[^1].State);
        Assert.Equal(120, seen[^1].Step);
        Assert.True(seen.Count >= 3, $"only {seen.Count} updates");
        Assert.Equal(seen.Select(s => s.Step).Order(), seen.Select(s => s.Step)); // progress never goes backwards
    }
}
