using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// Distributed mode for real: a redis-server started by the test, two silo processes (the production host)
/// forming one cluster through Redis with mutual TLS, and a run whose state survives restarting both.
/// </summary>
public sealed class RedisClusterTests : IDisposable
{
    private readonly string _root = Path.Combine(
        Path.GetTempPath(),
        "orleanssynth-redis-tests",
        Guid.NewGuid().ToString("N")
    );
    private readonly string _clusterId = $"test-{Guid.NewGuid():N}";
    private readonly List<ExternalProcess> _processes = [];
    private readonly SecureCluster _secure;

    public RedisClusterTests() => _secure = new SecureCluster(_root, _clusterId);

    [Fact]
    public async Task TwoSiloProcessesFormOneClusterThroughRedisAndStateSurvivesRestartingBoth()
    {
        Directory.CreateDirectory(_root);
        var redis = Start(_secure.StartRedis());
        var dataset = SmallFashionMnist.Write(Path.Combine(_root, "dataset"), train: 300, test: 100);
        const string run = "redis-run";

        var silos = StartSilos();
        WorkProgress? before;
        using (var client = await _secure.ConnectAsync())
        {
            var grains = client.Services.GetRequiredService<IClusterClient>();
            var hosts = await TwoSiloCluster.WaitFor(
                () => grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true),
                h => h.Count == 2,
                TimeSpan.FromMinutes(2)
            );
            Assert.Equal(2, hosts.Count);

            await Submit(grains, dataset, run, teacherSteps: 20);
            before = await TwoSiloCluster.WaitFor(
                () => Teacher(grains, run),
                p => p is { State: not WorkState.Running },
                TimeSpan.FromMinutes(4)
            );
            Assert.Equal(WorkState.Completed, before?.State);
            await client.StopAsync();
        }

        foreach (var silo in silos)
            Stop(silo);
        Assert.False(redis.HasExited, redis.Output);
        StartSilos();
        using (var client = await _secure.ConnectAsync())
        {
            var grains = client.Services.GetRequiredService<IClusterClient>();
            // The teacher's state came back from Redis: finished, at its step, not trained again.
            Assert.Equal(before, await Teacher(grains, run));
            Assert.NotNull(await grains.GetGrain<IDatasetGrain>(dataset).GetInfo());
            await client.StopAsync();
        }
    }

    [Fact]
    public async Task ARunWhoseSiloIsStoppedGracefullyIsNotFailedAndCompletesOnTheSurvivor()
    {
        await using var cluster = await StartTrainingOnTwoSilos("terminated-run", steps: 600);

        // SIGTERM: the silo shuts down gracefully, cancelling the compute worker under the run; that is a stop, not a
        // failure.
        cluster.RunningSilo.Terminate();
        // A status call sent while the silo shuts down can time out, or find its gateway gone: a client retries it, as
        // a user's would.
        async Task<StageStatus?> Stage()
        {
            try
            {
                return (await cluster.Coordinator.GetPipelineStatus()).Stages.FirstOrDefault(s =>
                    s.Name == "train teacher"
                );
            }
            catch (Exception e)
                when (e
                        is TimeoutException
                            or SiloUnavailableException
                            or OrleansMessageRejectionException
                            or Orleans.Runtime.Messaging.ConnectionFailedException
                )
            {
                return null;
            }
        }
        var done = await TwoSiloCluster.WaitFor(
            Stage,
            s => s is { State: not WorkState.Running },
            TimeSpan.FromMinutes(6),
            TimeSpan.FromSeconds(2)
        );
        Assert.True(done?.State == WorkState.Completed, $"{done?.State}: {done?.Detail}");
        Assert.StartsWith("600 steps, resumed", done!.Detail);
        Assert.NotEqual(cluster.RunningPort, (await cluster.SiloOfTeacher()).Endpoint.Port);
    }

    /// <summary>
    /// redis-server, two silo processes and an operator's client; a run whose teacher trains past its second
    /// checkpoint, the silo process it trains on and the other one.
    /// </summary>
    private async Task<RunningCluster> StartTrainingOnTwoSilos(string run, int steps)
    {
        Directory.CreateDirectory(_root);
        Start(_secure.StartRedis());
        var dataset = SmallFashionMnist.Write(Path.Combine(_root, "dataset"), train: 300, test: 100);
        var ports = new[] { ExternalProcess.FreePort(), ExternalProcess.FreePort() };
        var silos = ports.Select(StartSilo).ToList();
        var client = await _secure.ConnectAsync();
        var grains = client.Services.GetRequiredService<IClusterClient>();
        await TwoSiloCluster.WaitFor(
            () => grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true),
            h => h.Count == 2,
            TimeSpan.FromMinutes(2)
        );
        await Submit(grains, dataset, run, steps);
        // Checkpoints every 25 steps: past step 60 the one of step 50 is written.
        var atCheckpoint = await TwoSiloCluster.WaitFor(
            () => Teacher(grains, run),
            p => p?.Done >= 60,
            TimeSpan.FromMinutes(3)
        );
        Assert.Equal(WorkState.Running, atCheckpoint?.State);
        var cluster = new RunningCluster(client, grains, run, atCheckpoint!, null!, 0, null!);
        var port = (await cluster.SiloOfTeacher()).Endpoint.Port;
        var running = Array.IndexOf(ports, port);
        Assert.True(running >= 0, $"teacher on port {port}, silos on ports {string.Join(", ", ports)}");
        return cluster with { RunningSilo = silos[running], RunningPort = port, Survivor = silos[1 - running] };
    }

    /// <summary>A run whose teacher trains <paramref name="teacherSteps"/> steps, submitted as the operator.</summary>
    private static Task Submit(IClusterClient grains, string dataset, string run, int teacherSteps)
    {
        var diffusion = new TrainingRunSpec(
            "",
            Steps: teacherSteps,
            BatchSize: 8,
            BaseChannels: 16,
            Timesteps: 50,
            CheckpointEvery: 25
        );
        return grains
            .GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key)
            .Submit(
                run,
                new PipelineSpec(
                    dataset,
                    diffusion,
                    diffusion with
                    {
                        Steps = 10,
                    },
                    SampleCount: 20,
                    ShardSize: 10,
                    Gate: new PipelinePolicy(
                        MinimumSamples: 1,
                        RequireApproval: false,
                        MinimumCanaryRecall: 0,
                        StudentFlaggedRateCeiling: 1
                    ),
                    Output: $"out/{run}",
                    SamplerSteps: 3,
                    EncoderSteps: 20,
                    ClassifierSteps: 10,
                    SyntheticTile: 16,
                    RealTile: 256,
                    Canaries: 20
                )
            );
    }

    /// <summary>The run's teacher as its coordinator reports it (stage grains answer the cluster only).</summary>
    private static async Task<WorkProgress?> Teacher(IClusterClient grains, string run) =>
        (await grains.GetGrain<IPipelineCoordinatorGrain>(run).GetProgress()).FirstOrDefault(p =>
            p.Name == RunGrainIds.Teacher(run)
        );

    private sealed record RunningCluster(
        IHost Client,
        IClusterClient Grains,
        string Run,
        WorkProgress AtCheckpoint,
        ExternalProcess RunningSilo,
        int RunningPort,
        ExternalProcess Survivor
    ) : IAsyncDisposable
    {
        public IPipelineCoordinatorGrain Coordinator => Grains.GetGrain<IPipelineCoordinatorGrain>(Run);

        public Task<WorkProgress?> Teacher() => RedisClusterTests.Teacher(Grains, Run);

        /// <summary>
        /// Where the teacher's activation lives, as Orleans' management grain (an operator's tool) reports it.
        /// </summary>
        public async Task<SiloAddress> SiloOfTeacher() =>
            await Grains
                .GetGrain<IManagementGrain>(0)
                .GetActivationAddress(Grains.GetGrain<ITrainingRunGrain>(RunGrainIds.Teacher(Run)))
            ?? throw new InvalidOperationException("the teacher has no activation");

        public async ValueTask DisposeAsync()
        {
            await Client.StopAsync();
            Client.Dispose();
        }
    }

    private List<ExternalProcess> StartSilos() =>
        Enumerable.Range(0, 2).Select(_ => StartSilo(ExternalProcess.FreePort())).ToList();

    private ExternalProcess StartSilo(int siloPort) =>
        Start(_secure.StartSilo(siloPort, ExternalProcess.FreePort(), _root));

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
        foreach (var process in _processes)
            process.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException) { }
    }
}
