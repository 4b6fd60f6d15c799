using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A cluster as deployed: a redis-server started for it (with a password) and two processes of the production silo
/// host in Redis mode with mutual TLS, advertising 127.0.0.1; and a test-side Orleans client holding the operator's
/// certificate.
/// </summary>
public class RedisSiloProcesses : IAsyncLifetime
{
    public const string ClusterId = "orleanssynth";

    private readonly List<ExternalProcess> _silos = [];
    private readonly List<int> _siloPorts = [];
    private readonly List<string> _killedOutput = [];
    private ExternalProcess? _redis;
    private IHost? _client;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "orleanssynth-client-tests", Guid.NewGuid().ToString("N"));
    internal SecureRedisCluster Secure { get; private set; } = null!;
    /// <summary>The --cluster value a `synth` client uses to reach this cluster.</summary>
    public string ClusterArgument => Secure.ClusterArgument;
    public string Dataset { get; private set; } = "";
    /// <summary>The operator's client: it reaches what clients may call (coordinators, registries, datasets), not stage grains.</summary>
    public IClusterClient Grains => _client!.Services.GetRequiredService<IClusterClient>();

    /// <summary>Submits a run through the registry as the operator, as `synth run submit` does.</summary>
    public Task<RunSummary> Submit(IPipelineCoordinatorGrain coordinator, PipelineSpec spec) =>
        Grains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key).Submit(coordinator.GetPrimaryKeyString(), spec);

    /// <summary>The progress of one stage grain of a run, as its coordinator reports it; null until it started.</summary>
    public async Task<WorkProgress?> Progress(string run, string stageGrain) =>
        (await Grains.GetGrain<IPipelineCoordinatorGrain>(run).GetProgress()).FirstOrDefault(p => p.Name == stageGrain);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        Secure = new SecureRedisCluster(Root, ClusterId);
        _redis = Secure.StartRedis();
        Dataset = SmallFashionMnist.Write(Path.Combine(Root, "dataset"), train: 600, test: 300);
        for (var i = 0; i < 2; i++) StartSilo();
        _client = await Secure.ConnectAsync();
        await TwoSiloCluster.WaitFor(() => Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true), h => h.Count == 2, TimeSpan.FromMinutes(2));
    }

    /// <summary>More configuration for every silo (the operator's floor, limits), after the test defaults.</summary>
    protected virtual string[] SiloArguments => [];

    /// <summary>The /metrics port of each silo started, in order.</summary>
    public List<int> MetricsPorts { get; } = [];

    internal ExternalProcess StartSilo()
    {
        var metrics = ExternalProcess.FreePort();
        var siloPort = ExternalProcess.FreePort();
        MetricsPorts.Add(metrics);
        var silo = Secure.StartSilo(siloPort, metrics, Path.Combine(Root, "data"), SiloArguments);
        _silos.Add(silo);
        _siloPorts.Add(siloPort);
        return silo;
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
