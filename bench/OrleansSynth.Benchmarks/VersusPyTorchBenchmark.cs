using System.Diagnostics;
using System.Text.Json;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// Our diffusion training step and DDIM sampler against a PyTorch reference of exactly the same network, step and
/// sampler (bench/pytorch/reference.py, Debian's python3-torch), run as a child process with the same threads, batch,
/// data and settings; prints images/s for both and the ratios (goal: at least 1.0).
/// </summary>
internal static class VersusPyTorchBenchmark
{
    public static int Run(int threads, int steps, int batch, int samples, int ddimSteps, string reference)
    {
        const int warmup = 5;
        const double guidance = 2.0;
        if (!File.Exists(reference)) throw new FileNotFoundException($"{reference}: the PyTorch reference script was not found (run from the repository root).");
        set_num_threads(threads);
        var dataPath = DatasetCatalog.Resolve("fashion-mnist").Path;
        var data = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Train);
        var config = new DiffusionModelConfig
        {
            Model = new UNetConfig { BaseChannels = 32 },
            Diffusion = new DiffusionConfig { Timesteps = 1000, Schedule = NoiseScheduleKind.Cosine },
            Training = new TrainingConfig { Steps = warmup + steps, BatchSize = batch, CheckpointEvery = 0 },
        };
        Console.WriteLine($"versus PyTorch: UNet base 32, batch {batch}, {steps} timed steps after {warmup}, {samples} samples with DDIM {ddimSteps} (guidance {guidance}), {threads} threads");

        using var trainer = new DiffusionTrainer(config, CPU);
        var parameters = trainer.Model.parameters().Sum(p => p.numel());
        trainer.Train(data, stopAfterStep: warmup);
        var clock = Stopwatch.StartNew();
        trainer.Train(data, stopAfterStep: warmup + steps);
        var ourTrainer = steps * batch / clock.Elapsed.TotalSeconds;

        var sampler = new DdimSampler(trainer.Diffusion, ddimSteps);
        var labels = Enumerable.Range(0, samples).Select(i => (long)(i % config.Model.NumClasses)).ToArray();
        clock.Restart();
        using (sampler.Sample(trainer.Ema, new SamplingRequest(labels, 7, guidance))) { }
        var ourSampler = samples / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"ours (TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}): {parameters:N0} parameters, trainer {ourTrainer:F1} images/s, sampler {ourSampler:F1} images/s");

        // Debian's interpreter, where python3-torch installs; another python3 may come first on the PATH.
        var start = new ProcessStartInfo(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { reference, "--data", dataPath, "--threads", $"{threads}", "--batch", $"{batch}", "--steps", $"{steps}", "--warmup", $"{warmup}",
                     "--samples", $"{samples}", "--ddim-steps", $"{ddimSteps}", "--guidance", $"{guidance}" })
            start.ArgumentList.Add(a);
        using var python = Process.Start(start) ?? throw new InvalidOperationException("python3 could not be started.");
        var output = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        if (python.ExitCode != 0) throw new InvalidOperationException($"the PyTorch reference exited with {python.ExitCode} (is python3-torch installed?).");
        using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var theirs = json.RootElement;
        var theirParameters = theirs.GetProperty("parameters").GetInt64();
        var theirTrainer = theirs.GetProperty("trainer_images_per_second").GetDouble();
        var theirSampler = theirs.GetProperty("sampler_images_per_second").GetDouble();
        Console.WriteLine($"PyTorch {theirs.GetProperty("torch").GetString()}: {theirParameters:N0} parameters, trainer {theirTrainer:F1} images/s, sampler {theirSampler:F1} images/s");
        if (theirParameters != parameters)
        {
            Console.Error.WriteLine($"the reference is not the same network: {theirParameters} parameters against our {parameters}");
            return 2;
        }
        Console.WriteLine($"trainer images/s, ours / PyTorch: {ourTrainer / theirTrainer:F2} (goal >= 1.0)");
        Console.WriteLine($"sampler images/s, ours / PyTorch: {ourSampler / theirSampler:F2} (goal >= 1.0)");
        return 0;
    }
}
