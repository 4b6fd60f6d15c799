using System.Diagnostics;
using System.Text.Json;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Training;
using static OrleansSynth.Benchmarks.RoundTiming;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// Our diffusion training step and DDIM sampler against a PyTorch reference of exactly the same network, step and
/// sampler (bench/pytorch/reference.py, Debian's python3-torch), run as a child process with the same threads, batch,
/// data and settings; prints images/s for both and the ratios (goal: at least 1.0).
/// </summary>
internal static class VersusPyTorchBenchmark
{
    /// <param name="rounds">Each round measures both, ours first; the medians are compared, so a slow moment of the
    /// machine does not decide.</param>
    public static int Run(int threads, int steps, int batch, int samples, int ddimSteps, int rounds, string reference)
    {
        if (!File.Exists(reference))
            throw new FileNotFoundException(
                $"{reference}: the PyTorch reference script was not found (run from the repository root)."
            );
        set_num_threads(threads);
        var settings = new Settings(threads, steps, batch, samples, ddimSteps, Warmup: 5, Guidance: 2.0);
        var data = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Train);
        Console.WriteLine(
            $"versus PyTorch: UNet base 32, batch {batch}, {steps} timed steps after {settings.Warmup}, {samples} "
                + $"samples with DDIM {ddimSteps} "
                + $"(guidance {settings.Guidance}), {threads} threads, {rounds} rounds"
        );
        var ours = new List<Measurement>();
        var theirs = new List<Measurement>();
        for (var round = 1; round <= rounds; round++)
        {
            ours.Add(Ours(data, settings));
            theirs.Add(PyTorch(reference, DatasetCatalog.Resolve("fashion-mnist").Path, settings));
            Console.WriteLine(
                $"round {round}: ours trainer {ours[^1].Trainer:F1} images/s, sampler {ours[^1].Sampler:F2} "
                    + $"images/s ({ours[^1].Parameters:N0} parameters); "
                    + $"PyTorch {theirs[^1].Version} trainer {theirs[^1].Trainer:F1}, sampler "
                    + $"{theirs[^1].Sampler:F2} ({theirs[^1].Parameters:N0} parameters)"
            );
            if (theirs[^1].Parameters != ours[^1].Parameters)
            {
                Console.Error.WriteLine("the reference is not the same network: the parameter counts differ");
                return 2;
            }
        }
        var (ourTrainer, theirTrainer) = (Median(ours.Select(m => m.Trainer)), Median(theirs.Select(m => m.Trainer)));
        var (ourSampler, theirSampler) = (Median(ours.Select(m => m.Sampler)), Median(theirs.Select(m => m.Sampler)));
        Console.WriteLine(
            $"medians: ours trainer {ourTrainer:F1} images/s, sampler {ourSampler:F2}; PyTorch trainer "
                + $"{theirTrainer:F1}, sampler {theirSampler:F2}"
        );
        Console.WriteLine($"trainer images/s, ours / PyTorch: {ourTrainer / theirTrainer:F2} (goal >= 1.0)");
        Console.WriteLine($"sampler images/s, ours / PyTorch: {ourSampler / theirSampler:F2} (goal >= 1.0)");
        return 0;
    }

    private sealed record Settings(
        int Threads,
        int Steps,
        int Batch,
        int Samples,
        int DdimSteps,
        int Warmup,
        double Guidance
    );

    private sealed record Measurement(double Trainer, double Sampler, long Parameters, string Version);

    private static Measurement Ours(ImageDataset data, Settings s)
    {
        var config = new DiffusionModelConfig
        {
            Model = new UNetConfig { BaseChannels = 32 },
            Diffusion = new DiffusionConfig { Timesteps = 1000, Schedule = NoiseScheduleKind.Cosine },
            Training = new TrainingConfig
            {
                Steps = s.Warmup + s.Steps,
                BatchSize = s.Batch,
                CheckpointEvery = 0,
                // 32-bit floats, as the reference trains: like against like, not the silo's bfloat16 working copy.
                BFloat16 = false,
            },
        };
        using var trainer = new DiffusionTrainer(config, CPU);
        var parameters = trainer.Model.parameters().Sum(p => p.numel());
        trainer.Train(data, stopAfterStep: s.Warmup);
        var clock = Stopwatch.StartNew();
        trainer.Train(data, stopAfterStep: s.Warmup + s.Steps);
        var trainerRate = s.Steps * s.Batch / clock.Elapsed.TotalSeconds;

        var sampler = new DdimSampler(trainer.Diffusion, s.DdimSteps);
        var labels = Enumerable.Range(0, s.Samples).Select(i => (long)(i % config.Model.NumClasses)).ToArray();
        clock.Restart();
        using (sampler.Sample(trainer.Ema, new SamplingRequest(labels, 7, s.Guidance))) { }
        return new Measurement(
            trainerRate,
            s.Samples / clock.Elapsed.TotalSeconds,
            parameters,
            $"TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}"
        );
    }

    private static Measurement PyTorch(string reference, string dataPath, Settings s)
    {
        // Debian's interpreter, where python3-torch installs; another python3 may come first on the PATH.
        var start = new ProcessStartInfo(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (
            var a in new[]
            {
                reference,
                "--data",
                dataPath,
                "--threads",
                $"{s.Threads}",
                "--batch",
                $"{s.Batch}",
                "--steps",
                $"{s.Steps}",
                "--warmup",
                $"{s.Warmup}",
                "--samples",
                $"{s.Samples}",
                "--ddim-steps",
                $"{s.DdimSteps}",
                "--guidance",
                $"{s.Guidance}",
            }
        )
            start.ArgumentList.Add(a);
        // The allocator settings this process runs under (Program.cs), so both sides reuse freed memory alike.
        start.Environment["GLIBC_TUNABLES"] = OrleansSynth.ML.Runtime.NativeAllocator.GlibcTunables;
        using var python = Process.Start(start) ?? throw new InvalidOperationException("python3 could not be started.");
        var output = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        if (python.ExitCode != 0)
            throw new InvalidOperationException(
                $"the PyTorch reference exited with {python.ExitCode} (is python3-torch installed? "
                    + $"bench/scripts/versus-pytorch.sh installs it)."
            );
        using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var r = json.RootElement;
        return new Measurement(
            r.GetProperty("trainer_images_per_second").GetDouble(),
            r.GetProperty("sampler_images_per_second").GetDouble(),
            r.GetProperty("parameters").GetInt64(),
            $"{r.GetProperty("torch").GetString()}"
        );
    }
}
