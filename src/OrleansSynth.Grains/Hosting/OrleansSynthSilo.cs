using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace OrleansSynth.Grains.Hosting;

/// <summary>Configures a silo for the chosen mode; shared by the silo host and by the CLI's embedded silo.</summary>
public static class OrleansSynthSilo
{
    public static void Configure(ISiloBuilder silo, SiloHostOptions options)
    {
        var dataRoot = Path.GetFullPath(options.DataRoot);
        silo.AddOrleansSynth(
            compute =>
            {
                compute.CpuSlots = options.CpuSlots;
                compute.CacheRoot = Path.Combine(dataRoot, "cache");
            },
            artifacts => artifacts.Root = Path.Combine(dataRoot, "artifacts"));
        silo.Services.AddOptions<Datasets.DatasetOptions>().Configure(datasets => datasets.AllowManifestPathsOutside = options.AllowManifestPathsOutside);

        switch (options.Mode)
        {
            case "embedded":
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
                silo.AddFileGrainStorage(GrainStorageNames.Default, Path.Combine(dataRoot, "grain-state"));
                // One silo: reminders need not outlive it (on restart, the client's own calls reactivate its runs).
                silo.UseInMemoryReminderService();
                break;
            case "redis":
                silo.Configure<ClusterOptions>(cluster => (cluster.ClusterId, cluster.ServiceId) = (options.ClusterId, options.ServiceId));
                silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
                silo.UseRedisClustering(options.Redis);
                silo.AddRedisGrainStorage(GrainStorageNames.Default, redis => redis.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(options.Redis));
                // Reminders in Redis outlive any silo: they wake unfinished runs on a survivor after a silo dies.
                silo.UseRedisReminderService(redis => redis.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(options.Redis));
                break;
            default:
                throw new InvalidOperationException($"Unknown mode '{options.Mode}'; use 'embedded' or 'redis'.");
        }
    }
}
