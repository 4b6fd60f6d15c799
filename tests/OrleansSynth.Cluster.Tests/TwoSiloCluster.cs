using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansSynth.Cli.Connection;
using OrleansSynth.Grains;
using OrleansSynth.Grains.Datasets;
using OrleansSynth.Grains.Pipeline;
using OrleansSynth.Grains.Security;
using OrleansSynth.Silo.Storage;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A real two-silo Orleans cluster in the test process, sharing one artifact store, one grain-state folder and
/// one cache folder (as silos sharing a volume would), with one compute slot and one torch thread per silo. Its client
/// holds the operator token; its operator floor and limits are low, for small and fast runs.
/// </summary>
public class TwoSiloCluster : IAsyncLifetime
{
    /// <summary>Whether the silo of the given index (0 = first) advertises a GPU; none does by default.</summary>
    protected virtual bool AdvertisesGpu(int siloIndex) => false;

    /// <summary>The operator token the test cluster accepts.</summary>
    public const string OperatorToken = "test-operator-token";

    public string Root { get; } =
        Path.Combine(Path.GetTempPath(), "orleanssynth-cluster-tests", Guid.NewGuid().ToString("N"));
    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>An external client, as `synth` is: it reaches only the methods clients may call.</summary>
    public IClusterClient Client => Cluster.Client;

    /// <summary>Calls from inside the first silo, as the cluster's own code makes them: the stage grains clients cannot
    /// reach.</summary>
    public IGrainFactory Grains => Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
    public string Dataset { get; private set; } = "";

    /// <summary>Silo names in the order the silos were configured.</summary>
    public List<string> SiloNames { get; } = [];

    public async Task InitializeAsync()
    {
        Dataset = SmallFashionMnist.Write(Path.Combine(Root, "dataset"), train: 1500, test: 600);
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo(
            (options, silo) =>
            {
                // The silos are configured on threads of their own: the list is shared.
                int index;
                lock (SiloNames)
                {
                    if (!SiloNames.Contains(options.SiloName))
                        SiloNames.Add(options.SiloName);
                    index = SiloNames.IndexOf(options.SiloName);
                }
                var gpu = AdvertisesGpu(index);
                silo.AddOrleansSynth(
                    compute =>
                    {
                        compute.CpuSlots = 1;
                        compute.TorchThreads = 1;
                        compute.CacheRoot = Path.Combine(Root, "cache");
                        compute.AdvertiseGpu = gpu;
                    },
                    artifacts => artifacts.Root = Path.Combine(Root, "artifacts")
                );
                silo.AddFileGrainStorage(GrainStorageNames.Default, Path.Combine(Root, "grain-state"));
                silo.UseInMemoryReminderService();
                silo.Services.Configure<ClientAuthenticationOptions>(o =>
                {
                    o.OperatorToken = OperatorToken;
                    // The test cluster's own client asks its silos how they are through these.
                    o.OpenInterfaces.Add("Orleans.Runtime.TestHooks.ITestHooks");
                });
                silo.Services.Configure<DatasetOptions>(o => o.Roots = [Path.GetTempPath()]);
                ConfigurePolicy(silo.Services);
            }
        );
        builder.ConfigureClient(client =>
            client.AddOutgoingGrainCallFilter(ClientCredentials.FromToken(OperatorToken))
        );
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    /// <summary>The test cluster's operator floor and limits: none to speak of, so tests may run with tiny
    /// audits.</summary>
    public static void ConfigurePolicy(IServiceCollection services)
    {
        services.Configure<PolicyFloorOptions>(floor =>
            (floor.MinimumCanaryRecall, floor.StudentFlaggedRateCeiling, floor.Alpha, floor.Canaries) = (0, 1, 0, 0)
        );
        services.Configure<ClusterLimitsOptions>(limits => (limits.MinSyntheticTile, limits.MinRealTile) = (1, 1));
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException) { }
    }

    /// <summary>Submits a run through the registry as `synth run submit` does, under the coordinator's name.</summary>
    public Task<Abstractions.RunSummary> Submit(
        Abstractions.IPipelineCoordinatorGrain coordinator,
        Abstractions.PipelineSpec spec
    ) =>
        Client
            .GetGrain<Abstractions.IRunRegistryGrain>(Abstractions.IRunRegistryGrain.Key)
            .Submit(coordinator.GetPrimaryKeyString(), spec);

    /// <summary>Submits a run as <see cref="Submit"/> does and waits, ten minutes at most, until it is no longer
    /// running; returns its last status.</summary>
    public async Task<Abstractions.PipelineStatus> RunToEnd(
        Abstractions.IPipelineCoordinatorGrain coordinator,
        Abstractions.PipelineSpec spec
    )
    {
        await Submit(coordinator, spec);
        return await WaitFor(
            coordinator.GetPipelineStatus,
            s => s.State != Abstractions.WorkState.Running,
            TimeSpan.FromMinutes(10),
            TimeSpan.FromSeconds(1)
        );
    }

    /// <summary>Where an artifact lives in the store the silos share.</summary>
    public Task<string> ArtifactPath(Abstractions.ArtifactRef artifact) =>
        new Artifacts.FileSystemArtifactStore(
            Microsoft.Extensions.Options.Options.Create(
                new Artifacts.FileSystemArtifactStoreOptions { Root = Path.Combine(Root, "artifacts") }
            )
        ).GetLocalPathAsync(artifact);

    /// <summary>Exports a finished run's release to <paramref name="output"/>/release through the cluster, as `synth
    /// run export` does; nothing when it has none.</summary>
    public static async Task ExportRelease(Abstractions.IPipelineCoordinatorGrain coordinator, string output)
    {
        if (await coordinator.GetRelease() is not null)
            await Cli.Client.ReleaseExporter.ExportAsync(
                coordinator,
                Path.Combine(output, "release"),
                null,
                CancellationToken.None
            );
    }

    /// <summary>Polls until <paramref name="done"/> holds or the timeout passes; returns the last value.</summary>
    public static async Task<T> WaitFor<T>(
        Func<Task<T>> poll,
        Func<T, bool> done,
        TimeSpan timeout,
        TimeSpan? interval = null
    )
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await poll();
            if (done(value) || DateTime.UtcNow > deadline)
                return value;
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(250));
        }
    }
}
