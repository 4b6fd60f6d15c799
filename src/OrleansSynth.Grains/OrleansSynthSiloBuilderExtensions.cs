using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Datasets;
using OrleansSynth.Grains.Placement;
using OrleansSynth.ML.Runtime;

namespace OrleansSynth.Grains;

public static class OrleansSynthSiloBuilderExtensions
{
    /// <summary>
    /// Everything an OrleansSynth silo needs beyond clustering and grain storage: the compute worker, the artifact
    /// store, the dataset cache, GPU-aware placement and the silo's GPU metadata.
    /// </summary>
    public static ISiloBuilder AddOrleansSynth(
        this ISiloBuilder silo,
        Action<ComputeWorkerOptions>? compute = null,
        Action<FileSystemArtifactStoreOptions>? artifacts = null
    )
    {
        var services = silo.Services;
        var declared = new ComputeWorkerOptions();
        compute?.Invoke(declared);
        services.AddOptions<ComputeWorkerOptions>().Configure(options => compute?.Invoke(options));
        services.AddOptions<FileSystemArtifactStoreOptions>().Configure(options => artifacts?.Invoke(options));
        services.TryAddSingleton<ComputeWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<ComputeWorker>());
        services.TryAddSingleton<IArtifactStore, FileSystemArtifactStore>();
        services.AddOptions<Datasets.DatasetOptions>();
        services.TryAddSingleton<DatasetCache>();
        services.TryAddSingleton<DataRoots>();
        services.AddOptions<Pipeline.PolicyFloorOptions>();
        services.AddOptions<Pipeline.ClusterLimitsOptions>();
        services.TryAddSingleton<Telemetry.PipelineMetrics>();
        services.AddOptions<Security.ClientAuthenticationOptions>();
        services.TryAddSingleton<Security.ClientAuthenticator>();
        silo.AddIncomingGrainCallFilter<Security.ClientAccessFilter>();
        services.AddPlacementFilter<PreferGpuSilosStrategy, PreferGpuSilosDirector>(ServiceLifetime.Singleton);
        silo.UseSiloMetadata(
            new Dictionary<string, string>
            {
                [PreferGpuSilosStrategy.GpuMetadataKey] =
                    (declared.AdvertiseGpu ?? ComputeDevice.GpuCount > 0) ? "true" : "false",
            }
        );
        return silo;
    }
}
