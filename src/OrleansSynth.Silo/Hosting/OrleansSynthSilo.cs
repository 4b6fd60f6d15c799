using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Persistence;
using Orleans.Storage;
using OrleansSynth.Grains;
using Orleans.Connections.Security;
using OrleansSynth.Abstractions;
using OrleansSynth.Grains.Pipeline;
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
                compute.Devices = options.Devices.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                compute.CacheRoot = Path.Combine(dataRoot, "cache");
            },
            artifacts => artifacts.Root = Path.Combine(dataRoot, "artifacts"));
        silo.Services.AddOptions<OrleansSynth.Grains.Datasets.DatasetOptions>().Configure(datasets =>
        {
            datasets.AllowManifestPathsOutside = options.AllowManifestPathsOutside;
            datasets.CacheBytes = options.DatasetCacheMiB << 20;
            datasets.Roots = [.. options.DataRoots, Path.Combine(dataRoot, "artifacts")];
        });
        silo.Services.AddOptions<ClientAuthenticationOptions>().Configure(clients =>
        {
            clients.OperatorToken = options.OperatorToken;
            clients.CertificateAuthorityFile = options.Tls.CaFile;
        });
        silo.Services.AddOptions<PolicyFloorOptions>().Configure(floor => Copy(options.PolicyFloor, floor));
        silo.Services.AddOptions<ClusterLimitsOptions>().Configure(limits => Copy(options.Limits, limits));

        switch (options.Mode)
        {
            case "embedded":
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
                silo.AddFileGrainStorage(GrainStorageNames.Default, Path.Combine(dataRoot, "grain-state"));
                // One silo: reminders need not outlive it (on restart, the client's own calls reactivate its runs).
                silo.UseInMemoryReminderService();
                break;
            case "redis":
                UseMutualTls(silo, options);
                silo.Configure<ClusterOptions>(cluster => (cluster.ClusterId, cluster.ServiceId) = (options.ClusterId, options.ServiceId));
                // The address other silos and clients dial: given (e.g. 127.0.0.1 on one host), or the host's own.
                if (options.AdvertisedIp is { Length: > 0 } ip) silo.ConfigureEndpoints(System.Net.IPAddress.Parse(ip), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
                else silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
                UseRedis(silo, options.Redis);
                break;
            case "kubernetes":
                UseMutualTls(silo, options);
                // Silo name, pod IP, ports and cluster ids from the pod (POD_NAME, POD_IP, ORLEANS_CLUSTER_ID, ...); silos whose
                // pod is gone are declared dead at once instead of after missed probes. Membership itself stays in Redis.
                silo.UseKubernetesHosting();
                // Orleans' own default (the host's address) is filled in before the Kubernetes hosting would use POD_IP:
                // the manifests pass the pod IP here too, so the advertised address is the pod's by construction.
                if (options.AdvertisedIp is { Length: > 0 } podIp) silo.Configure<EndpointOptions>(endpoints => endpoints.AdvertisedIPAddress = System.Net.IPAddress.Parse(podIp));
                UseRedis(silo, options.Redis);
                break;
            default:
                throw new InvalidOperationException($"Unknown mode '{options.Mode}'; use 'embedded', 'redis' or 'kubernetes'.");
        }
    }

    /// <summary>
    /// Mutual TLS on every connection the silo makes or takes (silos and clients): its own certificate, and only peers
    /// whose certificate the cluster's CA signed. A silo that listens beyond loopback does not start without it.
    /// </summary>
    private static void UseMutualTls(ISiloBuilder silo, SiloHostOptions options)
    {
        if (!options.Tls.Configured)
            throw new InvalidOperationException($"Mode '{options.Mode}' listens beyond loopback and needs mutual TLS: set OrleansSynth:Tls:CertificateFile, "
                + "KeyFile and CaFile (PEM files, e.g. from a Kubernetes TLS Secret).");
        var authority = ClusterCertificates.LoadAuthority(options.Tls.CaFile);
        silo.UseTls(ClusterCertificates.LoadPair(options.Tls.CertificateFile, options.Tls.KeyFile), tls =>
        {
            tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.RemoteCertificateValidation = (certificate, _, _) => ClusterCertificates.ChainsTo(certificate, authority);
        });
    }

    /// <summary>Copies an options object bound from configuration into the one the grains read.</summary>
    private static void Copy<T>(T from, T to)
    {
        foreach (var property in typeof(T).GetProperties().Where(p => p.CanWrite)) property.SetValue(to, property.GetValue(from));
    }

    /// <summary>Membership, grain state and reminders in Redis: reminders outlive any silo and wake unfinished runs on a survivor.</summary>
    private static void UseRedis(ISiloBuilder silo, string redis)
    {
        silo.UseRedisClustering(redis);
        silo.AddRedisGrainStorage(GrainStorageNames.Default, storage => storage.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
        // Orleans' own binary format, as the file storage uses: the provider's default JSON drops fields equal to their
        // type's default, so a policy field set to 0 or false came back as the record's default on another silo.
        silo.Services.TryAddSingleton<OrleansGrainStorageSerializer>();
        silo.Services.AddOptions<RedisStorageOptions>(GrainStorageNames.Default)
            .Configure<OrleansGrainStorageSerializer>((storage, serializer) => storage.GrainStorageSerializer = serializer);
        silo.UseRedisReminderService(reminders => reminders.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
    }
}
