using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansSynth.Abstractions;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// Diffusion training through the cluster (a training run grain on a silo process: compute worker, checkpoint uploads
/// to the artifact store, persisted state, progress timer) against the bare trainer in this process, same network,
/// data, steps and checkpoint interval; prints the wall times and the ratio (goal: at least 0.97). The silo is started
/// by bench/scripts/cluster-vs-bare.sh; only one of the two trains at a time.
/// </summary>
internal static class ClusterVersusBareBenchmark
{
    private const string Dataset = "fashion-mnist";

    /// <param name="rounds">Each round times both, the cluster first; the medians are compared.</param>
    public static async Task<int> Run(int gatewayPort, int steps, int batch, int rounds)
    {
        using var host = await ConnectAsync(gatewayPort);
        var grains = host.Services.GetRequiredService<IClusterClient>();
        var info = await grains.GetGrain<IDatasetGrain>(Dataset).Register();
        var data = DatasetCatalog.Load(Dataset, DatasetSplit.Train);
        Console.WriteLine(
            $"cluster versus bare trainer: UNet base 32, batch {batch}, {steps} steps (checkpoint every "
                + $"{CheckpointEvery}), "
                + $"{info.TrainCount} records, bench process torch threads {get_num_threads()}, {rounds} rounds"
        );

        // Warm both sides (JIT, the silo's dataset cache, libtorch's allocator) before anything is timed.
        await ThroughCluster(grains, 5, batch);
        Bare(data, 5, batch);

        var cluster = new List<double>();
        var bare = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            cluster.Add(await ThroughCluster(grains, steps, batch));
            bare.Add(Bare(data, steps, batch));
            Console.WriteLine(
                $"round {round}: through the cluster {cluster[^1]:F1} s ({steps * batch / cluster[^1]:F1} images/s), "
                    + $"bare trainer {bare[^1]:F1} s ({steps * batch / bare[^1]:F1} images/s)"
            );
        }
        var (clusterSeconds, bareSeconds) = (RoundTiming.Median(cluster), RoundTiming.Median(bare));
        Console.WriteLine($"medians: through the cluster {clusterSeconds:F1} s, bare trainer {bareSeconds:F1} s");
        Console.WriteLine(
            $"training images/s, through the cluster / bare trainer: {bareSeconds / clusterSeconds:F3} (goal >= 0.97)"
        );
        return 0;
    }

    private const int CheckpointEvery = 200;

    /// <summary>Seconds from the run's Start call until it reports Completed (the client's view of a run).</summary>
    private static async Task<double> ThroughCluster(IGrainFactory grains, int steps, int batch)
    {
        var run = grains.GetGrain<ITrainingRunGrain>($"bench-cluster-vs-bare-{Guid.NewGuid():N}");
        var spec = new TrainingRunSpec(Dataset, steps, BatchSize: batch, CheckpointEvery: CheckpointEvery);
        var clock = Stopwatch.StartNew();
        var status = await run.Start(spec);
        await foreach (var update in run.Follow())
        {
            status = update;
            if (status.State is not (WorkState.Running or WorkState.NotStarted))
                break;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        if (status.State != WorkState.Completed)
            throw new InvalidOperationException($"the training run ended {status.State}: {status.Error}");
        return seconds;
    }

    /// <summary>Seconds for the same training in this process: the trainer, its local checkpoints, nothing
    /// else.</summary>
    private static double Bare(ImageDataset data, int steps, int batch)
    {
        // The grain's configuration for this spec (TrainingRunGrain.ConfigFor), written out.
        var config = new DiffusionModelConfig
        {
            Model = new UNetConfig
            {
                ImageChannels = data.Channels,
                ImageSize = data.Height,
                NumClasses = data.NumClasses,
                BaseChannels = 32,
                GroupNormGroups = 8,
            },
            Diffusion = new DiffusionConfig { Timesteps = 1000 },
            Training = new TrainingConfig
            {
                Steps = steps,
                BatchSize = batch,
                LearningRate = 1e-3,
                Seed = 1,
                CheckpointEvery = CheckpointEvery,
                ReportEvery = Math.Clamp(steps / 50, 1, 25),
            },
        };
        var checkpoint = Path.Combine(Path.GetTempPath(), $"orleanssynth-bench-bare-{Guid.NewGuid():N}.ckpt");
        try
        {
            var clock = Stopwatch.StartNew();
            using var trainer = new DiffusionTrainer(config, CPU);
            trainer.Train(data, checkpoint, _ => { }, CancellationToken.None);
            return clock.Elapsed.TotalSeconds;
        }
        finally
        {
            File.Delete(checkpoint);
        }
    }

    private static async Task<IHost> ConnectAsync(int gatewayPort)
    {
        var builder = Host.CreateApplicationBuilder([]);
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
            client
                .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("orleanssynth", "orleanssynth"))
                .UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort))
        );
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
