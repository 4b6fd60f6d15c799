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
            // Started outside any grain, so nothing but the placement filter steers them.
            var run = cluster.Grains.GetGrain<ITrainingRunGrain>($"gpu-placement-{i}");
            var status = await run.Start(
                new TrainingRunSpec(cluster.Dataset, Steps: 1, BatchSize: 4, BaseChannels: 16, Timesteps: 20)
            );
            Assert.Equal(gpuSilo, status.Silo);
        }
    }

    [Fact]
    public async Task GrainsThatTrainEmbedOrEvaluateAreActivatedOnTheGpuSilo()
    {
        var gpuSilo = cluster.Cluster.Silos.Single(s => s.Name == cluster.SiloNames[1]).SiloAddress;
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        for (var i = 0; i < 6; i++) // by chance all 6 of a kind would land there 1 time in 64
        {
            // Activated outside any grain by a status call, so nothing but the placement filter steers them.
            IAddressable[] grains =
            [
                cluster.Grains.GetGrain<IPrivacyAuditGrain>($"gpu-placement-audit-{i}"),
                cluster.Grains.GetGrain<ISamplingJobGrain>($"gpu-placement-samples-{i}"),
                cluster.Client.GetGrain<IPipelineCoordinatorGrain>($"gpu-placement-run-{i}"),
            ];
            await ((IPrivacyAuditGrain)grains[0]).GetStatus();
            await ((ISamplingJobGrain)grains[1]).GetStatus();
            await ((IPipelineCoordinatorGrain)grains[2]).GetPipelineStatus();
            foreach (var grain in grains)
                Assert.Equal(gpuSilo, await management.GetActivationAddress(grain));
        }
    }
}
