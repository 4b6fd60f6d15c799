using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Connections.Security;
using OrleansSynth.Abstractions;
using OrleansSynth.Cli.Connection;
using OrleansSynth.Tests.Shared;

namespace OrleansSynth.Cluster.Tests;

/// <summary>Where a cluster of silo processes keeps its membership, grain state and reminders.</summary>
public enum StorageBackend
{
    /// <summary>redis-server; the artifacts on a folder every silo process shares.</summary>
    Redis,

    /// <summary>Azurite's tables; the artifacts in its blobs, each silo process with a cache of its own.</summary>
    Azure,
}

/// <summary>
/// What a cluster of silo processes needs to be secured as deployed: certificates made at test time (mutual TLS, and
/// the clients' principals), its storage (a redis-server with a password for silos and a reading ACL user for
/// clients, or Azurite), and the silo host's arguments and environment for that. Test clusters keep the operator's
/// floor low so that small, fast runs pass; the attacker suite sets its own.
/// </summary>
internal sealed class SecureCluster
{
    public const string SiloPassword = "silo-secret-for-tests";
    public const string ReaderPassword = "reader-secret-for-tests";

    private ExternalProcess? _redis;

    public SecureCluster(string root, string clusterId, StorageBackend backend = StorageBackend.Redis)
    {
        Root = root;
        ClusterId = clusterId;
        Backend = backend;
        Certificates = new TestCertificates(Path.Combine(root, "certs"));
    }

    public string Root { get; }
    public string ClusterId { get; }
    public StorageBackend Backend { get; }
    public TestCertificates Certificates { get; }
    public int RedisPort { get; } = ExternalProcess.FreePort();
    public AzuriteServer? Azurite { get; private set; }

    /// <summary>The silos' connection string: the password that lets them write membership and grain state.</summary>
    public string SiloRedis => $"127.0.0.1:{RedisPort},password={SiloPassword}";

    /// <summary>The clients' connection string: a user that may read the gateway list and nothing else.</summary>
    public string ReaderRedis => $"127.0.0.1:{RedisPort},user=reader,password={ReaderPassword}";

    /// <summary>The --cluster value a `synth` client uses to reach this cluster.</summary>
    public string ClusterArgument =>
        Backend == StorageBackend.Redis ? $"redis://{ReaderRedis}" : $"azure://{Azurite!.ConnectionString}";

    /// <summary>The storage server, started (redis-server, or Azurite); the cluster owns it.</summary>
    public async Task StartStorageAsync()
    {
        if (Backend == StorageBackend.Redis)
            _redis = StartRedis();
        else
            await (Azurite = new AzuriteServer()).StartAsync();
    }

    /// <summary>
    /// Stops the storage server and starts it again on the same data (Redis saves it first, Azurite on SIGTERM).
    /// </summary>
    public async Task RestartStorageAsync()
    {
        if (Backend == StorageBackend.Azure)
        {
            await Azurite!.RestartAsync();
            return;
        }
        using (
            var save = new ExternalProcess(
                "redis-cli",
                ["-p", RedisPort.ToString(), "-a", SiloPassword, "--no-auth-warning", "SHUTDOWN", "SAVE"]
            )
        )
            await save.ExitCodeAsync(TimeSpan.FromSeconds(30));
        await _redis!.ExitCodeAsync(TimeSpan.FromSeconds(30));
        _redis.Dispose();
        _redis = StartRedis();
    }

    public string StorageOutput => _redis?.Output ?? Azurite?.Output ?? "";

    public async Task DisposeStorageAsync()
    {
        _redis?.Dispose();
        if (Azurite is not null)
            await Azurite.DisposeAsync();
    }

    /// <summary>
    /// redis-server on loopback with the silos' password and a reading user for clients (HSETNX too: the client's
    /// membership reader makes sure the table's version field exists, which writes only where nothing is).
    /// </summary>
    public ExternalProcess StartRedis() =>
        new(
            "redis-server",
            [
                "--port",
                RedisPort.ToString(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                Root,
                "--requirepass",
                SiloPassword,
                "--user",
                "reader",
                "on",
                $">{ReaderPassword}",
                "~*",
                "&*",
                "+@read",
                "+@connection",
                "+hsetnx",
            ]
        );

    /// <summary>
    /// The production silo host in this cluster's storage mode with mutual TLS, advertising 127.0.0.1.
    /// </summary>
    public ExternalProcess StartSilo(int siloPort, int metricsPort, string dataRoot, params string[] extra)
    {
        var environment =
            Backend == StorageBackend.Redis
                ? new Dictionary<string, string>
                {
                    ["OrleansSynth__Mode"] = "redis",
                    ["OrleansSynth__Redis"] = SiloRedis,
                }
                : new Dictionary<string, string>
                {
                    ["OrleansSynth__Mode"] = "azure",
                    ["OrleansSynth__Azure__ConnectionString"] = Azurite!.ConnectionString,
                };
        return new(
            "dotnet",
            [
                Path.Combine(AppContext.BaseDirectory, "orleanssynth-silo.dll"),
                $"--OrleansSynth:ClusterId={ClusterId}",
                "--OrleansSynth:AdvertisedIp=127.0.0.1",
                $"--OrleansSynth:DataRoot={dataRoot}",
                $"--OrleansSynth:SiloPort={siloPort}",
                $"--OrleansSynth:GatewayPort={ExternalProcess.FreePort()}",
                $"--Urls=http://127.0.0.1:{metricsPort}",
                "--OrleansSynth:CpuSlots=1",
                $"--OrleansSynth:Tls:CertificateFile={Certificates.Certificate("silo")}",
                $"--OrleansSynth:Tls:KeyFile={Certificates.Key("silo")}",
                $"--OrleansSynth:Tls:CaFile={Certificates.CaFile}",
                $"--OrleansSynth:DataRoots:0={Root}",
                // Small, fast test runs: a tiny audit proves no recall, and tiny tiles exercise the fan-out.
                "--OrleansSynth:PolicyFloor:MinimumCanaryRecall=0",
                "--OrleansSynth:PolicyFloor:StudentFlaggedRateCeiling=1",
                "--OrleansSynth:PolicyFloor:Alpha=0",
                "--OrleansSynth:PolicyFloor:Canaries=0",
                "--OrleansSynth:Limits:MinSyntheticTile=1",
                "--OrleansSynth:Limits:MinRealTile=1",
                .. extra,
            ],
            environment: environment
        );
    }

    /// <summary>
    /// The environment that makes a `synth` process the holder of <paramref name="principal"/>'s certificate.
    /// </summary>
    public Dictionary<string, string> ClientEnvironment(string principal) =>
        new()
        {
            [ClientOptions.CertificateVariable] = Certificates.Certificate(principal),
            [ClientOptions.KeyVariable] = Certificates.Key(principal),
            [ClientOptions.CaVariable] = Certificates.CaFile,
        };

    /// <summary>
    /// An Orleans client holding <paramref name="principal"/>'s certificate; retried while the silos start.
    /// </summary>
    public async Task<IHost> ConnectAsync(string principal = "operator", TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var host = Client(principal);
            try
            {
                await host.StartAsync();
                return host;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                // Silos still starting: no gateway registered yet.
                host.Dispose();
                await Task.Delay(1000);
            }
        }
    }

    /// <summary>
    /// A client host, not started, holding <paramref name="principal"/>'s certificate (with TLS, or without to be
    /// refused).
    /// </summary>
    public IHost Client(string principal, bool tls = true)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(client =>
        {
            if (Backend == StorageBackend.Redis)
                client.UseRedisClustering(ReaderRedis);
            else
                client.UseAzureStorageClustering(gateways =>
                    gateways.TableServiceClient = new Azure.Data.Tables.TableServiceClient(Azurite!.ConnectionString)
                );
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, "orleanssynth"));
            var certificate = ClusterCertificates.LoadPair(
                Certificates.Certificate(principal),
                Certificates.Key(principal)
            );
            client.AddOutgoingGrainCallFilter(ClientCredentials.FromCertificate(certificate));
            if (!tls)
                return;
            var authority = ClusterCertificates.LoadAuthority(Certificates.CaFile);
            client.UseTls(certificate, options =>
            {
                options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
                options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
                options.RemoteCertificateValidation = (remote, _, _) => ClusterCertificates.ChainsTo(remote, authority);
            });
            client.UseConnectionRetryFilter((_, _) => Task.FromResult(false));
        });
        return builder.Build();
    }
}
