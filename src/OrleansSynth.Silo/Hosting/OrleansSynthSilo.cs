using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Persistence;
using Orleans.Storage;
using OrleansSynth.Grains;
using OrleansSynth.Grains.Security;
using OrleansSynth.Silo.Storage;

namespace OrleansSynth.Silo.Hosting;

/// <summary>Configures a silo for the chosen mode: clustering, grain storage and reminders, and the OrleansSynth services.</summary>
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
        silo.Services.AddOptions<OrleansSynth.Grains.Datasets.DatasetOptions>().Configure(datasets => datasets.AllowManifestPathsOutside = options.AllowManifestPathsOutside);
        silo.Services.AddOptions<OperatorOptions>().Configure(operators => operators.Token = options.OperatorToken);

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
                // The address other silos and clients dial: given (e.g. the pod IP, or 127.0.0.1 on one host), or the host's own.
                if (options.AdvertisedIp is { Length: > 0 } ip) silo.ConfigureEndpoints(System.Net.IPAddress.Parse(ip), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
                else silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
                silo.UseRedisClustering(options.Redis);
                silo.AddRedisGrainStorage(GrainStorageNames.Default, redis => redis.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(options.Redis));
                // Orleans' own binary format, as the file storage uses: the provider's default JSON drops fields equal to their
                // type's default, so a policy field set to 0 or false came back as the record's default on another silo.
                silo.Services.TryAddSingleton<OrleansGrainStorageSerializer>();
                silo.Services.AddOptions<RedisStorageOptions>(GrainStorageNames.Default)
                    .Configure<OrleansGrainStorageSerializer>((redis, serializer) => redis.GrainStorageSerializer = serializer);
                // Reminders in Redis outlive any silo: they wake unfinished runs on a survivor after a silo dies.
                silo.UseRedisReminderService(redis => redis.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(options.Redis));
                break;
            default:
                throw new InvalidOperationException($"Unknown mode '{options.Mode}'; use 'embedded' or 'redis'.");
        }
    }
}
