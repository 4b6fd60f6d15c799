using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>A cluster whose second silo advertises a GPU.</summary>
public sealed class SecondSiloHasGpuCluster : TwoSiloCluster
{
    protected override bool AdvertisesGpu(int siloIndex) => siloIndex == 1;
}

public sealed class GpuPlacementTests(SecondSiloHasGpuCluster cluster) : IClassFixture<SecondSiloHasGpuCluster>
{
    [Fact]
    public async Task TrainingRunsAreActivatedOnTheGpuSilo()
    {
        var gpuSilo = cluster.Cluster.Silos.Single(s => s.Name == cluster.SiloNames[1]).SiloAddress.ToString();
        await cluster.Client.GetGrain<IDatasetGrain>(cluster.Dataset).Register();
        for (var i = 0; i < 10; i++) // by chance all 10 would land there 1 time in 1024
        {
            // Started from the client, so nothing but the placement filter steers them.
            var run = cluster.Client.GetGrain<ITrainingRunGrain>($"gpu-placement-{i}");
            var status = await run.Start(new TrainingRunSpec(cluster.Dataset, Steps: 1, BatchSize: 4, BaseChannels: 16, Timesteps: 20));
            Assert.Equal(gpuSilo, status.Silo);
        }
    }
}
