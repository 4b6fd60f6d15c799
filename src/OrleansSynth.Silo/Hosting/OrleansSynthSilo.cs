using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Persistence;
using Orleans.Storage;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Artifacts.Azure;
using OrleansSynth.Grains;
using OrleansSynth.Grains.Pipeline;
using OrleansSynth.Grains.Security;
using OrleansSynth.Silo.Storage;

namespace OrleansSynth.Silo.Hosting;

/// <summary>Configures a silo for the chosen mode: clustering, grain storage and reminders, and the OrleansSynth
/// services.</summary>
public static class OrleansSynthSilo
{
    public static void Configure(ISiloBuilder silo, SiloHostOptions options)
    {
        var dataRoot = Path.GetFullPath(options.DataRoot);
        silo.AddOrleansSynth(
            compute =>
            {
                compute.CpuSlots = options.CpuSlots;
                compute.Devices = options.Devices.Split(
                    ',',
                    StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries
                );
                compute.CacheRoot = Path.Combine(dataRoot, "cache");
            },
            artifacts => artifacts.Root = Path.Combine(dataRoot, "artifacts")
        );
        silo.Services.AddOptions<OrleansSynth.Grains.Datasets.DatasetOptions>()
            .Configure(datasets =>
            {
                datasets.AllowManifestPathsOutside = options.AllowManifestPathsOutside;
                datasets.CacheBytes = options.DatasetCacheMiB << 20;
                datasets.Roots = [.. options.DataRoots, Path.Combine(dataRoot, "artifacts")];
            });
        silo.Services.AddOptions<ClientAuthenticationOptions>()
            .Configure(clients =>
            {
                clients.OperatorToken = options.OperatorToken;
                clients.CertificateAuthorityFile = options.Tls.CaFile;
            });
        silo.Services.AddOptions<PolicyFloorOptions>().Configure(floor => Copy(options.PolicyFloor, floor));
        silo.Services.AddOptions<ClusterLimitsOptions>().Configure(limits => Copy(options.Limits, limits));

        switch (options.Mode)
        {
            case "embedded":
                silo.UseLocalhostClustering(
                    options.SiloPort,
                    options.GatewayPort,
                    serviceId: options.ServiceId,
                    clusterId: options.ClusterId
                );
                silo.AddFileGrainStorage(GrainStorageNames.Default, Path.Combine(dataRoot, "grain-state"));
                // One silo: reminders need not outlive it (on restart, the client's own calls reactivate its runs).
                silo.UseInMemoryReminderService();
                break;
            case "redis":
                UseMutualTls(silo, options);
                silo.Configure<ClusterOptions>(cluster =>
                    (cluster.ClusterId, cluster.ServiceId) = (options.ClusterId, options.ServiceId)
                );
                // The address other silos and clients dial: given (e.g. 127.0.0.1 on one host), or the host's own.
                if (options.AdvertisedIp is { Length: > 0 } ip)
                    silo.ConfigureEndpoints(
                        System.Net.IPAddress.Parse(ip),
                        options.SiloPort,
                        options.GatewayPort,
                        listenOnAnyHostAddress: true
                    );
                else
                    silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
                UseRedis(silo, options.Redis);
                break;
            case "kubernetes":
                UseMutualTls(silo, options);
                // Silo name, pod IP, ports and cluster ids from the pod (POD_NAME, POD_IP, ORLEANS_CLUSTER_ID, ...);
                // silos whose pod is gone are declared dead at once instead of after missed probes. Membership itself
                // stays in Redis.
                silo.UseKubernetesHosting();
                // Orleans' own default (the host's address) is filled in before the Kubernetes hosting would use
                // POD_IP: the manifests pass the pod IP here too, so the advertised address is the pod's by
                // construction.
                if (options.AdvertisedIp is { Length: > 0 } podIp)
                    silo.Configure<EndpointOptions>(endpoints =>
                        endpoints.AdvertisedIPAddress = System.Net.IPAddress.Parse(podIp)
                    );
                UseRedis(silo, options.Redis);
                break;
            case "azure":
                UseMutualTls(silo, options);
                silo.Configure<ClusterOptions>(cluster =>
                    (cluster.ClusterId, cluster.ServiceId) = (options.ClusterId, options.ServiceId)
                );
                if (options.AdvertisedIp is { Length: > 0 } azureIp)
                    silo.ConfigureEndpoints(
                        System.Net.IPAddress.Parse(azureIp),
                        options.SiloPort,
                        options.GatewayPort,
                        listenOnAnyHostAddress: true
                    );
                else
                    silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
                UseAzureStorage(silo, options.Azure, dataRoot);
                break;
            default:
                throw new InvalidOperationException(
                    $"Unknown mode '{options.Mode}'; use 'embedded', 'redis', 'kubernetes' or 'azure'."
                );
        }
    }

    /// <summary>
    /// Mutual TLS on every connection the silo makes or takes (silos and clients): its own certificate, and only peers
    /// whose certificate the cluster's CA signed. A silo that listens beyond loopback does not start without it.
    /// </summary>
    private static void UseMutualTls(ISiloBuilder silo, SiloHostOptions options)
    {
        if (!options.Tls.Configured)
            throw new InvalidOperationException(
                $"Mode '{options.Mode}' listens beyond loopback and needs mutual TLS: set "
                    + $"OrleansSynth:Tls:CertificateFile, "
                    + "KeyFile and CaFile (PEM files, e.g. from a Kubernetes TLS Secret)."
            );
        var authority = ClusterCertificates.LoadAuthority(options.Tls.CaFile);
        silo.UseTls(ClusterCertificates.LoadPair(options.Tls.CertificateFile, options.Tls.KeyFile), tls =>
        {
            tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.RemoteCertificateValidation = (certificate, _, _) =>
                ClusterCertificates.ChainsTo(certificate, authority);
        });
    }

    /// <summary>Copies an options object bound from configuration into the one the grains read.</summary>
    private static void Copy<T>(T from, T to)
    {
        foreach (var property in typeof(T).GetProperties().Where(p => p.CanWrite))
            property.SetValue(to, property.GetValue(from));
    }

    /// <summary>
    /// Membership, grain state and reminders in Azure tables, artifacts in a blob container with a verified cache under
    /// the data root: the silos share no volume.
    /// </summary>
    private static void UseAzureStorage(ISiloBuilder silo, SiloAzureOptions azure, string dataRoot)
    {
        var tables = AzureTables(azure);
        silo.UseAzureStorageClustering(clustering => clustering.TableServiceClient = tables);
        silo.AddAzureTableGrainStorage(GrainStorageNames.Default, storage => storage.TableServiceClient = tables);
        // Orleans' own binary format, as for Redis: a JSON serializer drops fields equal to their type's default.
        silo.Services.TryAddSingleton<OrleansGrainStorageSerializer>();
        silo.Services.AddOptions<Orleans.Configuration.AzureTableStorageOptions>(GrainStorageNames.Default)
            .Configure<OrleansGrainStorageSerializer>(
                (storage, serializer) => storage.GrainStorageSerializer = serializer
            );
        silo.UseAzureTableReminderService(reminders => reminders.TableServiceClient = tables);
        silo.Services.AddOptions<AzureBlobArtifactStoreOptions>()
            .Configure(blobs =>
            {
                (blobs.ConnectionString, blobs.BlobServiceUrl, blobs.Container) = (
                    azure.ConnectionString,
                    azure.BlobServiceUrl,
                    azure.Container
                );
                // Where the file store would be: a named path (an uploaded dataset) reads the same on every silo.
                blobs.CacheRoot = Path.Combine(dataRoot, "artifacts");
            });
        silo.Services.Replace(ServiceDescriptor.Singleton<IArtifactStore, AzureBlobArtifactStore>());
    }

    /// <summary>The account's tables: by connection string, else by URL with a managed or workload identity.</summary>
    public static TableServiceClient AzureTables(SiloAzureOptions azure) =>
        azure.ConnectionString.Length > 0 ? new TableServiceClient(azure.ConnectionString)
        : azure.TableServiceUrl.Length > 0
            ? new TableServiceClient(new Uri(azure.TableServiceUrl), new DefaultAzureCredential())
        : throw new InvalidOperationException(
            "Mode 'azure' needs OrleansSynth:Azure:ConnectionString, or TableServiceUrl and BlobServiceUrl."
        );

    /// <summary>Membership, grain state and reminders in Redis: reminders outlive any silo and wake unfinished runs on
    /// a survivor.</summary>
    private static void UseRedis(ISiloBuilder silo, string redis)
    {
        silo.UseRedisClustering(redis);
        silo.AddRedisGrainStorage(GrainStorageNames.Default, storage =>
            storage.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis)
        );
        // Orleans' own binary format, as the file storage uses: the provider's default JSON drops fields equal to their
        // type's default, so a policy field set to 0 or false came back as the record's default on another silo.
        silo.Services.TryAddSingleton<OrleansGrainStorageSerializer>();
        silo.Services.AddOptions<RedisStorageOptions>(GrainStorageNames.Default)
            .Configure<OrleansGrainStorageSerializer>(
                (storage, serializer) => storage.GrainStorageSerializer = serializer
            );
        silo.UseRedisReminderService(reminders =>
            reminders.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis)
        );
    }
}
