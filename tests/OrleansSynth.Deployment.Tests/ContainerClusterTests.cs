using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using OrleansSynth.Abstractions;
using OrleansSynth.Cluster.Tests;
using OrleansSynth.Tests.Shared;
using Xunit.Abstractions;

namespace OrleansSynth.Deployment.Tests;

/// <summary>
/// The images as deployed: redis with its passwords, three silo containers with mutual TLS and read-only root
/// filesystems, and the client container with a submitter's certificate, all from the real Dockerfiles. The client
/// submits a small pipeline; one silo container is killed with SIGKILL (`docker kill`) in the middle of sampling; the
/// run completes with exactly the requested samples, and the client's export matches the release's hashes.
/// </summary>
public sealed class ContainerClusterTests(DockerEngine engine, ITestOutputHelper output)
    : IClassFixture<DockerEngine>,
        IAsyncLifetime
{
    private const int AppUid = 1654; // the images' non-root user
    private const string SiloPassword = "silo-secret-for-container-tests";
    private const string ReaderPassword = "reader-secret-for-container-tests";
    private const string Tls = "/etc/orleanssynth/tls"; // where the chart mounts the TLS Secret
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private readonly List<string> _containers = [];
    private readonly int _redisPort = ExternalProcess.FreePort();
    private IHost? _observer;

    private string Root => Path.Combine(engine.Work, $"run-{_id}");
    private string SiloRedis => $"127.0.0.1:{_redisPort},password={SiloPassword}";
    private string ReaderRedis => $"127.0.0.1:{_redisPort},user=reader,password={ReaderPassword}";

    [Fact]
    public async Task ARunSubmittedFromTheClientContainerSurvivesASiloContainerKilledMidSampling()
    {
        var clock = Stopwatch.StartNew();
        const string run = "containers";
        const int samples = 60;
        var data = Path.Combine(Root, "data");
        var work = Path.Combine(Root, "client");
        var certificates = new TestCertificates(Path.Combine(Root, "certs"));
        SmallFashionMnist.Write(Path.Combine(data, "datasets", "fashion-mnist-small"), train: 600, test: 300);
        Directory.CreateDirectory(work);
        await File.WriteAllTextAsync(
            Path.Combine(work, "spec.yaml"),
            $$"""
            dataset: /data/datasets/fashion-mnist-small
            # The teacher-student path: the test kills a silo while the teacher's samples are drawn.
            strategy: distillation
            output: out/{{run}}
            teacher: { steps: 20, batchSize: 16, baseChannels: 16, timesteps: 50 }
            student: { steps: 10, batchSize: 16, baseChannels: 16, timesteps: 50 }
            sampling: { count: {{samples}}, shardSize: 5, steps: 25 }
            # The encoder's link rule decides: the default 14,000-step verifier has no place
            # in a test of the deployment.
            audit: { encoderSteps: 20, canaries: 20, verifierSteps: 0 }
            # A 20-step encoder cannot prove its recall: this run tests the deployment, so the canary minimum is off.
            gate: { minimumSamples: 1, requireApproval: false, minimumCanaryRecall: 0, studentFlaggedRateCeiling: 1 }
            utility: { classifierSteps: 10 }
            """
        );
        // The images run as a non-root user: it owns the shared data volume and the client's folder, as a volume's
        // fsGroup would.
        await Docker.RunToolAsync("chown", ["-R", $"{AppUid}:{AppUid}", Root], TimeSpan.FromSeconds(30));

        await StartAsync(
            $"redis-{_id}",
            [
                DockerEngine.RedisImage,
                "--port",
                _redisPort.ToString(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
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
        var silos = new List<string>();
        var metricsPorts = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            var name = $"silo-{i}-{_id}";
            var metrics = ExternalProcess.FreePort();
            await StartAsync(
                name,
                [
                    // As the chart runs it: a read-only root, writable /tmp and /data, the TLS Secret mounted
                    // read-only.
                    "--read-only",
                    "--tmpfs",
                    "/tmp",
                    "-v",
                    $"{data}:/data",
                    "-v",
                    $"{certificates.Folder}:{Tls}:ro",
                    "-e",
                    $"OrleansSynth__Redis={SiloRedis}",
                    "-e",
                    "OrleansSynth__AdvertisedIp=127.0.0.1",
                    "-e",
                    $"OrleansSynth__SiloPort={ExternalProcess.FreePort()}",
                    "-e",
                    $"OrleansSynth__GatewayPort={ExternalProcess.FreePort()}",
                    "-e",
                    $"URLS=http://127.0.0.1:{metrics}",
                    "-e",
                    $"OrleansSynth__Tls__CertificateFile={Tls}/silo.crt",
                    "-e",
                    $"OrleansSynth__Tls__KeyFile={Tls}/silo.key",
                    "-e",
                    $"OrleansSynth__Tls__CaFile={Tls}/ca.crt",
                    "-e",
                    "OrleansSynth__DataRoots__0=/data/datasets",
                    // This run's tiny audit proves no recall: the operator's floor here lets it through (see the spec).
                    "-e",
                    "OrleansSynth__PolicyFloor__MinimumCanaryRecall=0",
                    "-e",
                    "OrleansSynth__PolicyFloor__StudentFlaggedRateCeiling=1",
                    "-e",
                    "OrleansSynth__PolicyFloor__Canaries=20",
                    DockerEngine.SiloImage,
                ]
            );
            silos.Add(name);
            metricsPorts.Add(metrics);
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var port in metricsPorts)
            await Eventually(
                async () => (await http.GetAsync($"http://127.0.0.1:{port}/healthz")).IsSuccessStatusCode,
                TimeSpan.FromMinutes(2),
                "a silo container's /healthz"
            );
        _observer = await ConnectObserverAsync(certificates);
        var grains = _observer.Services.GetRequiredService<IClusterClient>();
        await Eventually(
            async () => (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count == 3,
            TimeSpan.FromMinutes(2),
            "three active silos"
        );
        Say($"cluster of 3 silo containers up at {clock.Elapsed.TotalSeconds:F0} s");

        var submit = await ClientAsync(
            ["run", "submit", "/work/spec.yaml", "--name", run, "--json"],
            TimeSpan.FromMinutes(2)
        );
        Assert.True(submit.Exit == 0, submit.Output);

        // Stage grains are the cluster's own: the operator follows sampling through the run's progress.
        var coordinator = grains.GetGrain<IPipelineCoordinatorGrain>(run);
        WorkProgress? midway = null;
        await Eventually(
            async () =>
            {
                midway = (await coordinator.GetProgress()).FirstOrDefault(p =>
                    p.Name == RunGrainIds.TeacherSamples(run)
                );
                return midway is { Done: >= 2 } or { State: not WorkState.Running };
            },
            TimeSpan.FromMinutes(8),
            "sampling under way"
        );
        Assert.True(
            midway is { State: WorkState.Running } && midway.Done < midway.Total,
            $"not mid-sampling: {midway}\n{await LogsAsync()}"
        );
        await Docker.RunAsync(["kill", silos[0]], TimeSpan.FromSeconds(30)); // SIGKILL, as a node loss
        Say($"killed {silos[0]} at {midway.Done}/{midway.Total} shards, {clock.Elapsed.TotalSeconds:F0} s");

        var watch = await ClientAsync(["run", "watch", run], TimeSpan.FromMinutes(12));
        Assert.True(watch.Exit == 0, $"watch exited {watch.Exit}:\n{watch.Output}\n{await LogsAsync()}");
        Say($"run completed at {clock.Elapsed.TotalSeconds:F0} s");

        // Every sample audited once, none lost or doubled, as the gate's evidence counts them.
        var evidence = (await coordinator.GetDecisions()).Last(d => d.Open).Evidence;
        Assert.Equal(samples, evidence.SamplesRemaining + evidence.FlaggedSamples);
        Assert.Equal(evidence.TilesTotal, evidence.TilesDone);

        var export = await ClientAsync(
            ["run", "export", run, "--to", "/work/export", "--json"],
            TimeSpan.FromMinutes(5)
        );
        Assert.True(export.Exit == 0, export.Output);
        var manifest = await coordinator.GetRelease();
        Assert.NotNull(manifest);
        var exported = Path.Combine(work, "export");
        foreach (var file in manifest.Files)
            Assert.Equal(
                file.Artifact.Sha256,
                Convert.ToHexStringLower(
                    SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(exported, file.Path)))
                )
            );
        Assert.Equal(manifest.Files.Count, Directory.GetFiles(exported, "*", SearchOption.AllDirectories).Length);

        Say($"container test wall time {clock.Elapsed.TotalSeconds:F0} s (after the image builds)");
        foreach (var line in engine.Report)
            Say(line);
    }

    /// <summary>Progress and measurements: in the test's output, and on the console so CI logs show them for a passing
    /// run too.</summary>
    private void Say(string line)
    {
        output.WriteLine(line);
        Console.WriteLine($"[deployment] {line}");
    }

    private async Task StartAsync(string name, IEnumerable<string> arguments)
    {
        _containers.Add(name);
        await Docker.RunAsync(
            ["run", "-d", "--name", name, "--network", "host", .. arguments],
            TimeSpan.FromMinutes(1)
        );
    }

    /// <summary>
    /// `synth` in the client image, as a Kubernetes Job would run it: read-only, the cluster (Redis's reading user) and
    /// a submitter's certificate from the environment.
    /// </summary>
    private async Task<(int Exit, string Output)> ClientAsync(IEnumerable<string> arguments, TimeSpan timeout)
    {
        var name = $"client-{_id}-{Guid.NewGuid().ToString("N")[..6]}";
        _containers.Add(name);
        using var client = new ExternalProcess(
            "docker",
            [
                "run",
                "--rm",
                "--name",
                name,
                "--network",
                "host",
                "--read-only",
                "--tmpfs",
                "/tmp",
                "-v",
                $"{Path.Combine(Root, "client")}:/work",
                "-v",
                $"{Path.Combine(Root, "certs")}:{Tls}:ro",
                "-e",
                $"ORLEANSSYNTH_CLUSTER=redis://{ReaderRedis}",
                "-e",
                $"ORLEANSSYNTH_CLIENT_CERT={Tls}/submitter.crt",
                "-e",
                $"ORLEANSSYNTH_CLIENT_KEY={Tls}/submitter.key",
                "-e",
                $"ORLEANSSYNTH_CA={Tls}/ca.crt",
                DockerEngine.ClientImage,
                .. arguments,
            ],
            environment: Docker.Environment
        );
        return (await client.ExitCodeAsync(timeout), client.Output);
    }

    /// <summary>A test-side Orleans client with the operator's certificate, to follow the run and to kill
    /// mid-sampling.</summary>
    private async Task<IHost> ConnectObserverAsync(TestCertificates certificates)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var certificate = ClusterCertificates.LoadPair(
            certificates.Certificate("operator"),
            certificates.Key("operator")
        );
        var authority = ClusterCertificates.LoadAuthority(certificates.CaFile);
        builder.UseOrleansClient(client =>
            client
                .UseRedisClustering(ReaderRedis)
                .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("orleanssynth", "orleanssynth"))
                .AddOutgoingGrainCallFilter(Cli.Connection.ClientCredentials.FromCertificate(certificate))
                .UseTls(certificate, tls =>
                {
                    tls.RemoteCertificateMode = Orleans.Connections.Security.RemoteCertificateMode.RequireCertificate;
                    tls.ClientCertificateMode = Orleans.Connections.Security.RemoteCertificateMode.RequireCertificate;
                    tls.RemoteCertificateValidation = (remote, _, _) => ClusterCertificates.ChainsTo(remote, authority);
                })
        );
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task Eventually(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await condition())
                    return;
            }
            catch (Exception e)
                when (e
                        is HttpRequestException
                            or TaskCanceledException
                            or TimeoutException
                            or SiloUnavailableException
                            or OrleansMessageRejectionException
                )
            {
                // Not up yet, or a call that met the killed silo: ask again.
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {timeout} for {what}");
            await Task.Delay(500);
        }
    }

    private async Task<string> LogsAsync()
    {
        var logs = new List<string>();
        foreach (var name in _containers.Where(n => n.StartsWith("silo-", StringComparison.Ordinal)))
        {
            try
            {
                var tail = await Docker.RunAsync(["logs", "--tail", "60", name], TimeSpan.FromSeconds(30));
                logs.Add($"--- {name}\n{Docker.Tail(tail)}");
            }
            catch (InvalidOperationException e)
            {
                logs.Add($"--- {name}: {e.Message}");
            }
        }
        return string.Join('\n', logs);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_observer is not null)
        {
            try
            {
                await _observer.StopAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception) { }
            _observer.Dispose();
        }
        foreach (var name in _containers)
        {
            try
            {
                await Docker.RunAsync(["rm", "-f", name], TimeSpan.FromMinutes(1));
            }
            catch (InvalidOperationException) { } // already gone (--rm)
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException) { }
    }
}
