using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// Distributed mode for real: a redis-server started by the test, two silo processes (the production host)
/// forming one cluster through Redis, and a run whose state survives restarting both.
/// </summary>
public sealed class RedisClusterTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "orleanssynth-redis-tests", Guid.NewGuid().ToString("N"));
    private readonly string _clusterId = $"test-{Guid.NewGuid():N}";
    private readonly List<ExternalProcess> _processes = [];
    private readonly int _redisPort = ExternalProcess.FreePort();

    private string Redis => $"127.0.0.1:{_redisPort}";

    [Fact]
    public async Task TwoSiloProcessesFormOneClusterThroughRedisAndStateSurvivesRestartingBoth()
    {
        Directory.CreateDirectory(_root);
        var redis = Start(new ExternalProcess("redis-server", ["--port", _redisPort.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _root]));
        var dataset = SmallFashionMnist.Write(Path.Combine(_root, "dataset"), train: 300, test: 100);

        var silos = StartSilos();
        TrainingStatus before;
        using (var client = await ConnectClient())
        {
            var grains = client.Services.GetRequiredService<IClusterClient>();
            var hosts = await TwoSiloCluster.WaitFor(() => grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true), h => h.Count == 2, TimeSpan.FromMinutes(2));
            Assert.Equal(2, hosts.Count);

            await grains.GetGrain<IDatasetGrain>(dataset).Register();
            var run = grains.GetGrain<ITrainingRunGrain>("redis-run");
            await run.Start(new TrainingRunSpec(dataset, Steps: 20, BatchSize: 8, BaseChannels: 16, Timesteps: 50, CheckpointEvery: 10));
            before = await TwoSiloCluster.WaitFor(run.GetStatus, s => s.State != WorkState.Running, TimeSpan.FromMinutes(4));
            Assert.True(before.State == WorkState.Completed, before.Error);
            await client.StopAsync();
        }

        foreach (var silo in silos) Stop(silo);
        Assert.False(redis.HasExited, redis.Output);
        StartSilos();
        using (var client = await ConnectClient())
        {
            var grains = client.Services.GetRequiredService<IClusterClient>();
            var after = await grains.GetGrain<ITrainingRunGrain>("redis-run").GetStatus();
            Assert.Equal(WorkState.Completed, after.State);
            Assert.Equal(20, after.Step);
            Assert.Equal(before.Checkpoint, after.Checkpoint);
            Assert.NotNull(await grains.GetGrain<IDatasetGrain>(dataset).GetInfo());
            await client.StopAsync();
        }
    }

    [Fact]
    public async Task ARunWhoseSiloIsKilledResumesOnTheSurvivorWithNoClientCalling()
    {
        await using var cluster = await StartTrainingOnTwoSilos("killed-run", steps: 100_000);
        var atKill = cluster.AtCheckpoint;

        // SIGKILL the silo running it, as a node loss would; then nobody calls the run. A call would activate it, and an
        // activation resumes it, so the survivor's log is watched instead: only its reminder can have woken it there.
        Stop(cluster.RunningSilo);
        var resumed = "Training run killed-run resumes from its checkpoint";
        var woken = await TwoSiloCluster.WaitFor(() => Task.FromResult(cluster.Survivor.Output.Contains(resumed)), found => found,
            TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1));
        Assert.True(woken, $"the run did not resume by itself on the survivor within 5 minutes:\n{cluster.Survivor.Output[^Math.Min(4000, cluster.Survivor.Output.Length)..]}");

        // Resumed, it checkpoints past the step it was killed at.
        var after = await TwoSiloCluster.WaitFor(cluster.Run.GetStatus, s => s.CheckpointStep > atKill.Step, TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(1));
        Assert.Equal(WorkState.Running, after.State);
        Assert.True(after.Resumes >= 1, $"resumes {after.Resumes}");
        Assert.DoesNotContain($":{cluster.RunningPort}:", after.Silo);
        Assert.True(after.CheckpointStep > atKill.Step, $"checkpoint {after.CheckpointStep} after the kill at step {atKill.Step}: the run did not train on after resuming");
    }

    [Fact]
    public async Task ARunWhoseSiloIsStoppedGracefullyIsNotFailedAndCompletesOnTheSurvivor()
    {
        await using var cluster = await StartTrainingOnTwoSilos("terminated-run", steps: 600);

        // SIGTERM: the silo shuts down gracefully, cancelling the compute worker under the run; that is a stop, not a failure.
        cluster.RunningSilo.Terminate();
        // A status call sent while the silo shuts down can time out, or find its gateway gone: a client retries it, as a user's would.
        async Task<TrainingStatus> Status()
        {
            try
            {
                return await cluster.Run.GetStatus();
            }
            catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or Orleans.Runtime.Messaging.ConnectionFailedException)
            {
                return cluster.AtCheckpoint;
            }
        }
        var done = await TwoSiloCluster.WaitFor(Status, s => s.State != WorkState.Running, TimeSpan.FromMinutes(6), TimeSpan.FromSeconds(2));
        Assert.True(done.State == WorkState.Completed, $"{done.State}: {done.Error}");
        Assert.Equal(600, done.Step);
        Assert.True(done.Resumes >= 1);
        Assert.DoesNotContain($":{cluster.RunningPort}:", done.Silo);
    }

    /// <summary>
    /// redis-server, two silo processes and a client; a training run started and past its second checkpoint, the silo
    /// process it runs on and the other one.
    /// </summary>
    private async Task<RunningCluster> StartTrainingOnTwoSilos(string runId, int steps)
    {
        Directory.CreateDirectory(_root);
        Start(new ExternalProcess("redis-server", ["--port", _redisPort.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _root]));
        var dataset = SmallFashionMnist.Write(Path.Combine(_root, "dataset"), train: 300, test: 100);
        var ports = new[] { ExternalProcess.FreePort(), ExternalProcess.FreePort() };
        var silos = ports.Select(StartSilo).ToList();
        var client = await ConnectClient();
        var grains = client.Services.GetRequiredService<IClusterClient>();
        await TwoSiloCluster.WaitFor(() => grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true), h => h.Count == 2, TimeSpan.FromMinutes(2));
        await grains.GetGrain<IDatasetGrain>(dataset).Register();
        var run = grains.GetGrain<ITrainingRunGrain>(runId);
        await run.Start(new TrainingRunSpec(dataset, Steps: steps, BatchSize: 8, BaseChannels: 16, Timesteps: 50, CheckpointEvery: 25));
        var atCheckpoint = await TwoSiloCluster.WaitFor(run.GetStatus, s => s.CheckpointStep >= 50, TimeSpan.FromMinutes(3));
        Assert.Equal(WorkState.Running, atCheckpoint.State);
        // A silo address reads "S127.0.0.1:<port>:<generation>".
        var running = Array.FindIndex(ports, port => atCheckpoint.Silo!.Contains($":{port}:"));
        Assert.True(running >= 0, $"run on {atCheckpoint.Silo}, silos on ports {string.Join(", ", ports)}");
        return new RunningCluster(client, run, atCheckpoint, silos[running], ports[running], silos[1 - running]);
    }

    private sealed record RunningCluster(IHost Client, ITrainingRunGrain Run, TrainingStatus AtCheckpoint, ExternalProcess RunningSilo, int RunningPort,
        ExternalProcess Survivor) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Client.StopAsync();
            Client.Dispose();
        }
    }

    private List<ExternalProcess> StartSilos() => Enumerable.Range(0, 2).Select(_ => StartSilo(ExternalProcess.FreePort())).ToList();

    private ExternalProcess StartSilo(int siloPort) =>
        Start(new ExternalProcess("dotnet", [
            SiloAssembly(),
            "--OrleansSynth:Mode=redis", $"--OrleansSynth:Redis={Redis}", $"--OrleansSynth:ClusterId={_clusterId}", "--OrleansSynth:AdvertisedIp=127.0.0.1",
            $"--OrleansSynth:DataRoot={_root}", $"--OrleansSynth:SiloPort={siloPort}",
            $"--OrleansSynth:GatewayPort={ExternalProcess.FreePort()}", $"--Urls=http://127.0.0.1:{ExternalProcess.FreePort()}",
        ]));

    private async Task<IHost> ConnectClient()
    {
        var host = Host.CreateApplicationBuilder();
        host.UseOrleansClient(client => client
            .UseRedisClustering(Redis)
            .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (_clusterId, "orleanssynth")));
        var built = host.Build();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                await built.StartAsync();
                return built;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                // Silos still starting: no gateway registered in Redis yet.
                await Task.Delay(1000);
                built.Dispose();
                built = host.Build();
            }
        }
    }

    /// <summary>The production silo host, built beside this test assembly in the same configuration.</summary>
    private static string SiloAssembly()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "orleanssynth-silo.dll");
        if (!File.Exists(path)) throw new FileNotFoundException("the silo host was not built next to the tests", path);
        return path;
    }

    private ExternalProcess Start(ExternalProcess process)
    {
        _processes.Add(process);
        return process;
    }

    private void Stop(ExternalProcess process)
    {
        process.Dispose();
        _processes.Remove(process);
    }

    public void Dispose()
    {
        foreach (var process in _processes) process.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
