using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A cluster as deployed: a redis-server started for it and two processes of the production silo host in Redis mode,
/// advertising 127.0.0.1, with an operator token; and a test-side Orleans client to look at grains directly.
/// </summary>
public sealed class RedisSiloProcesses : IAsyncLifetime
{
    public const string ClusterId = "orleanssynth";
    public const string OperatorToken = "operator-secret-for-tests";

    private readonly List<ExternalProcess> _silos = [];
    private readonly List<int> _siloPorts = [];
    private readonly List<string> _killedOutput = [];
    private ExternalProcess? _redis;
    private IHost? _client;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "orleanssynth-client-tests", Guid.NewGuid().ToString("N"));
    public int RedisPort { get; } = ExternalProcess.FreePort();
    public string Redis => $"127.0.0.1:{RedisPort}";
    /// <summary>The --cluster value a `synth` client uses to reach this cluster.</summary>
    public string ClusterArgument => $"redis://{Redis}";
    public string Dataset { get; private set; } = "";
    public IClusterClient Grains => _client!.Services.GetRequiredService<IClusterClient>();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        _redis = new ExternalProcess("redis-server", ["--port", RedisPort.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", Root]);
        Dataset = SmallFashionMnist.Write(Path.Combine(Root, "dataset"), train: 600, test: 300);
        for (var i = 0; i < 2; i++) StartSilo();
        _client = await ConnectAsync();
        await TwoSiloCluster.WaitFor(() => Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true), h => h.Count == 2, TimeSpan.FromMinutes(2));
    }

    /// <summary>The /metrics port of each silo started, in order.</summary>
    public List<int> MetricsPorts { get; } = [];

    internal ExternalProcess StartSilo()
    {
        var metrics = ExternalProcess.FreePort();
        var siloPort = ExternalProcess.FreePort();
        MetricsPorts.Add(metrics);
        var silo = new ExternalProcess("dotnet", [
            Path.Combine(AppContext.BaseDirectory, "orleanssynth-silo.dll"),
            "--OrleansSynth:Mode=redis", $"--OrleansSynth:Redis={Redis}", $"--OrleansSynth:ClusterId={ClusterId}", "--OrleansSynth:AdvertisedIp=127.0.0.1",
            $"--OrleansSynth:DataRoot={Path.Combine(Root, "data")}", $"--OrleansSynth:SiloPort={siloPort}",
            $"--OrleansSynth:GatewayPort={ExternalProcess.FreePort()}", $"--Urls=http://127.0.0.1:{metrics}",
            "--OrleansSynth:CpuSlots=1",
        ], environment: new Dictionary<string, string> { ["OrleansSynth__OperatorToken"] = OperatorToken });
        _silos.Add(silo);
        _siloPorts.Add(siloPort);
        return silo;
    }

    private async Task<IHost> ConnectAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.UseOrleansClient(client => client.UseRedisClustering(Redis).Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, "orleanssynth")));
            var host = builder.Build();
            try
            {
                await host.StartAsync();
                return host;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                // Silos still starting: no gateway registered in Redis yet.
                host.Dispose();
                await Task.Delay(1000);
            }
        }
    }

    /// <summary>Kills a silo process with SIGKILL, as a node loss would: no shutdown, no goodbye to the cluster.</summary>
    internal void KillSilo(int index)
    {
        var silo = _silos[index];
        _killedOutput.Add(silo.Output);
        silo.Dispose();
        _silos.RemoveAt(index);
        _siloPorts.RemoveAt(index);
    }

    /// <summary>Kills (SIGKILL) the silo process that hosts <paramref name="grain"/>'s activation, and returns its address.</summary>
    internal async Task<SiloAddress> KillSiloHostingAsync(IAddressable grain)
    {
        var address = await Grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grain)
            ?? throw new InvalidOperationException($"{grain} has no activation to kill");
        var index = _siloPorts.IndexOf(address.Endpoint.Port);
        if (index < 0) throw new InvalidOperationException($"no silo process of this fixture listens on {address}");
        KillSilo(index);
        return address;
    }

    /// <summary>Starts silos until there are <paramref name="count"/> again (after a kill) and waits until all are active.</summary>
    internal async Task RestoreSilosAsync(int count = 2)
    {
        while (_silos.Count < count) StartSilo();
        await TwoSiloCluster.WaitFor(() => Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true), h => h.Count == count, TimeSpan.FromMinutes(3), TimeSpan.FromSeconds(1));
    }

    /// <summary>Silo output, for failure messages.</summary>
    public string SiloOutput => string.Join("\n----\n", _killedOutput.Concat(_silos.Select(s => s.Output)).Select(o => o[^Math.Min(4000, o.Length)..]));

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            try { await _client.StopAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { }
            _client.Dispose();
        }
        foreach (var silo in _silos) silo.Dispose();
        _redis?.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
