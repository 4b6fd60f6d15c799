using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A cluster as deployed: its storage server started for it (redis-server with a password, or Azurite) and processes
/// of the production silo host in that storage's mode with mutual TLS, advertising 127.0.0.1; and a test-side Orleans
/// client holding the operator's certificate. A test may follow a run without calling it, from the silos' logs and
/// /metrics, so that what resumes the run is the cluster itself.
/// </summary>
public abstract class SiloProcesses : IAsyncLifetime
{
    public const string ClusterId = "orleanssynth";

    private readonly List<Silo> _silos = [];
    private readonly List<string> _killedOutput = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private IHost? _client;

    private sealed record Silo(ExternalProcess Process, int SiloPort, int MetricsPort);

    protected abstract StorageBackend Backend { get; }

    /// <summary>Silo processes the cluster starts with.</summary>
    protected virtual int InitialSilos => 2;

    /// <summary>More configuration for every silo (the operator's floor, limits), after the test defaults.</summary>
    protected virtual string[] SiloArguments => [];

    public string Root { get; } =
        Path.Combine(Path.GetTempPath(), "orleanssynth-client-tests", Guid.NewGuid().ToString("N"));
    internal SecureCluster Secure { get; private set; } = null!;

    /// <summary>The --cluster value a `synth` client uses to reach this cluster.</summary>
    public string ClusterArgument => Secure.ClusterArgument;
    public string Dataset { get; private set; } = "";

    /// <summary>
    /// The operator's client: it reaches what clients may call (coordinators, registries, datasets), not stage grains.
    /// </summary>
    public IClusterClient Grains => _client!.Services.GetRequiredService<IClusterClient>();

    /// <summary>The /metrics port of each silo started, in order.</summary>
    public List<int> MetricsPorts { get; } = [];

    public int LiveSilos => _silos.Count;

    /// <summary>The silo port of each live silo, in order (a silo address reads S127.0.0.1:PORT:GENERATION).</summary>
    internal IReadOnlyList<int> SiloPorts => _silos.Select(s => s.SiloPort).ToList();

    /// <summary>Each silo's data root (over Azure, its own; over Redis, the shared one).</summary>
    internal string DataRoot(int siloPort) =>
        Backend == StorageBackend.Redis ? Path.Combine(Root, "data") : Path.Combine(Root, "data", $"silo-{siloPort}");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        Secure = new SecureCluster(Root, ClusterId, Backend);
        await Secure.StartStorageAsync();
        Dataset = SmallFashionMnist.Write(Path.Combine(Root, "dataset"), train: 600, test: 300);
        for (var i = 0; i < InitialSilos; i++)
            StartSilo();
        _client = await Secure.ConnectAsync();
        await TwoSiloCluster.WaitFor(
            () => Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true),
            h => h.Count == InitialSilos,
            TimeSpan.FromMinutes(2)
        );
    }

    /// <summary>Submits a run through the registry as the operator, as `synth run submit` does.</summary>
    public Task<RunSummary> Submit(IPipelineCoordinatorGrain coordinator, PipelineSpec spec) =>
        Grains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key).Submit(coordinator.GetPrimaryKeyString(), spec);

    /// <summary>
    /// The progress of one stage grain of a run, as its coordinator reports it; null until it started.
    /// </summary>
    public async Task<WorkProgress?> Progress(string run, string stageGrain) =>
        (await Grains.GetGrain<IPipelineCoordinatorGrain>(run).GetProgress()).FirstOrDefault(p => p.Name == stageGrain);

    /// <summary>
    /// A call asked again, for up to two minutes, while it meets a silo just lost (the cluster has not yet noticed), as
    /// a user's `synth run watch` asks again.
    /// </summary>
    public async Task<T> Retrying<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e)
                when (DateTime.UtcNow < deadline
                    && e
                        is TimeoutException
                            or SiloUnavailableException
                            or OrleansMessageRejectionException
                            or Orleans.Runtime.Messaging.ConnectionFailedException
                )
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    internal ExternalProcess StartSilo()
    {
        var (siloPort, metrics) = (ExternalProcess.FreePort(), ExternalProcess.FreePort());
        MetricsPorts.Add(metrics);
        // Over Redis the silos share the artifact folder, as a volume; over Azure each has only its own cache.
        var silo = new Silo(Secure.StartSilo(siloPort, metrics, DataRoot(siloPort), SiloArguments), siloPort, metrics);
        _silos.Add(silo);
        return silo.Process;
    }

    /// <summary>
    /// Kills a silo process with SIGKILL, as a node loss would: no shutdown, no goodbye to the cluster.
    /// </summary>
    internal void KillSilo(int index)
    {
        if (index < 0 || index >= _silos.Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"{_silos.Count} silos live");
        var silo = _silos[index];
        silo.Process.Dispose();
        _killedOutput.Add(silo.Process.Output);
        _silos.RemoveAt(index);
    }

    /// <summary>
    /// Kills (SIGKILL) the silo process that hosts <paramref name="grain"/>'s activation, and returns its address.
    /// </summary>
    internal async Task<SiloAddress> KillSiloHostingAsync(IAddressable grain)
    {
        var address = await Grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grain)
            ?? throw new InvalidOperationException($"{grain} has no activation to kill");
        var index = _silos.FindIndex(s => s.SiloPort == address.Endpoint.Port);
        if (index < 0)
            throw new InvalidOperationException($"no silo process of this fixture listens on {address}");
        KillSilo(index);
        return address;
    }

    /// <summary>
    /// Starts silos until there are <paramref name="count"/> again (after a kill) and waits until all are active.
    /// </summary>
    internal async Task RestoreSilosAsync(int? count = null)
    {
        var wanted = count ?? InitialSilos;
        while (_silos.Count < wanted)
            StartSilo();
        await TwoSiloCluster.WaitFor(
            () => Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true),
            h => h.Count == wanted,
            TimeSpan.FromMinutes(3),
            TimeSpan.FromSeconds(1)
        );
    }

    internal Task RestartStorageAsync() => Secure.RestartStorageAsync();

    /// <summary>
    /// The index of the live silo whose /metrics has <paramref name="metric"/> (a name, or a prefix ending in '_')
    /// with a label value starting with
    /// <paramref name="labelValue"/> (the silo that runs that work), and the value; null when none has it.
    /// </summary>
    internal async Task<(int Silo, double Value)?> SiloReportingAsync(string metric, string labelValue) =>
        await SiloReportingLineAsync(metric, labelValue) is { } found ? (found.Silo, found.Value) : null;

    /// <summary>As <see cref="SiloReportingAsync"/>, with the whole metric line (its labels).</summary>
    internal async Task<(int Silo, double Value, string Line)?> SiloReportingLineAsync(string metric, string labelValue)
    {
        for (var i = 0; i < _silos.Count; i++)
        {
            string text;
            try
            {
                text = await _http.GetStringAsync($"http://127.0.0.1:{_silos[i].MetricsPort}/metrics");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                continue;
            }
            foreach (var line in text.Split('\n'))
            {
                var brace = line.IndexOf('{');
                if (brace < 0 || !line.Contains($"\"{labelValue}", StringComparison.Ordinal))
                    continue;
                // A name ending in '_' is a prefix (every audit gauge); any other is one metric exactly.
                var name = line[..brace];
                var matches = metric.EndsWith('_') ? name.StartsWith(metric, StringComparison.Ordinal) : name == metric;
                if (!matches)
                    continue;
                var value = line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0];
                return (i, double.Parse(value, CultureInfo.InvariantCulture), line);
            }
        }
        return null;
    }

    /// <summary>How many lines of every silo's log (killed ones included) match <paramref name="pattern"/>.</summary>
    internal int LogLines(string pattern) => Regex.Matches(AllOutput, pattern, RegexOptions.Multiline).Count;

    /// <summary>Every silo's log, the killed ones' included, whole.</summary>
    internal string AllOutput => string.Join("\n", _killedOutput.Concat(_silos.Select(s => s.Process.Output)));

    /// <summary>Silo output, for failure messages.</summary>
    public string SiloOutput =>
        string.Join(
            "\n----\n",
            _killedOutput.Concat(_silos.Select(s => s.Process.Output)).Select(o => o[^Math.Min(4000, o.Length)..])
        )
        + "\n---- storage\n"
        + Secure.StorageOutput[^Math.Min(2000, Secure.StorageOutput.Length)..];

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                await _client.StopAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception) { }
            _client.Dispose();
        }
        foreach (var silo in _silos)
            silo.Process.Dispose();
        await Secure.DisposeStorageAsync();
        _http.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException) { }
    }
}

/// <summary>Silo processes over redis-server, the artifacts on a folder they share.</summary>
public class RedisSiloProcesses : SiloProcesses
{
    protected override StorageBackend Backend => StorageBackend.Redis;
}

/// <summary>
/// Silo processes over Azurite: tables for the cluster's state, blobs for the artifacts; no shared folder.
/// </summary>
public sealed class AzureSiloProcesses : SiloProcesses
{
    protected override StorageBackend Backend => StorageBackend.Azure;
}
