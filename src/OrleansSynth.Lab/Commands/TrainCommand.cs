using System.CommandLine;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
using OrleansSynth.ML.Text;
using OrleansSynth.ML.Training;
using Spectre.Console;

namespace OrleansSynth.Lab.Commands;

/// <summary>
/// <c>synth train</c>: trains a class-conditional diffusion model on a real dataset, in-process, and writes a
/// checkpoint, the loss curve and a grid of samples. A dataset with reports trains a model that also reads them
/// (prompted by text). Re-running it resumes from the checkpoint in --out.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset")
        {
            Description = "Dataset name (fashion-mnist) or path (IDX folder, .npz, .csv manifest).",
            DefaultValueFactory = _ => "fashion-mnist",
        };
        var output = new Option<string>("--out")
        {
            Description = "Output folder for checkpoint.ckpt, loss.csv, loss.png and samples.png.",
            DefaultValueFactory = _ => "out/train",
        };
        var steps = new Option<int>("--steps") { Description = "Training steps.", DefaultValueFactory = _ => 3000 };
        var batchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => 64 };
        var learningRate = new Option<double>("--learning-rate") { DefaultValueFactory = _ => 1e-3 };
        var baseChannels = new Option<int>("--base-channels")
        {
            Description = "UNet width at full resolution.",
            DefaultValueFactory = _ => 32,
        };
        var timesteps = new Option<int>("--timesteps")
        {
            Description = "Diffusion timesteps.",
            DefaultValueFactory = _ => 1000,
        };
        var schedule = new Option<NoiseScheduleKind>("--schedule")
        {
            DefaultValueFactory = _ => NoiseScheduleKind.Cosine,
        };
        var limit = new Option<int?>("--limit")
        {
            Description = "Use only the first N training images (for quick trials).",
        };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 1 };
        var fresh = new Option<bool>("--fresh")
        {
            Description = "Ignore an existing checkpoint in --out and start over.",
        };
        var device = new Option<string>("--device")
        {
            Description = "auto, cpu or cuda[:N].",
            DefaultValueFactory = _ => "auto",
        };
        var reportColumn = new Option<string?>("--report-column")
        {
            Description =
                "The manifest column of reports (default 'report', when present). A dataset with reports "
                + "trains a model prompted by text.",
        };
        var perClass = new Option<int>("--samples-per-class") { DefaultValueFactory = _ => 10 };
        var samplingSteps = new Option<int>("--sampling-steps")
        {
            Description = "DDIM steps for the preview grid.",
            DefaultValueFactory = _ => 50,
        };
        var guidance = new Option<double>("--guidance")
        {
            Description = "Classifier-free guidance scale for the preview grid.",
            DefaultValueFactory = _ => 2.0,
        };

        var command = new Command(
            "train",
            "Train a class-conditional diffusion model on a real dataset and write a sample grid."
        )
        {
            dataset,
            output,
            steps,
            batchSize,
            learningRate,
            baseChannels,
            timesteps,
            schedule,
            limit,
            reportColumn,
            seed,
            fresh,
            device,
            perClass,
            samplingSteps,
            guidance,
        };
        command.SetAction(
            (parse, cancellationToken) =>
                LabErrors.Run(async () =>
                {
                    var outDir = parse.GetValue(output)!;
                    Directory.CreateDirectory(outDir);
                    var checkpoint = Path.Combine(outDir, "checkpoint.ckpt");
                    var torchDevice = ComputeDevice.Select(parse.GetValue(device));

                    var data = DatasetCatalog.Load(
                        parse.GetValue(dataset)!,
                        DatasetSplit.Train,
                        reportColumn: parse.GetValue(reportColumn)
                    );
                    ModelInputShape.Check(parse.GetValue(dataset)!, data);
                    if (parse.GetValue(limit) is { } n)
                        data = data.Subset(Enumerable.Range(0, Math.Min(n, data.Count)).ToArray());
                    AnsiConsole.WriteLine(
                        $"dataset {data.Name}: {data.Count} images {data.Channels}x{data.Height}x{data.Width}, "
                            + $"{data.NumClasses} classes{(data.HasReports ? ", with reports" : "")}; device "
                            + $"{torchDevice}"
                    );

                    var config = new DiffusionModelConfig
                    {
                        Model = new UNetConfig
                        {
                            ImageChannels = data.Channels,
                            ImageSize = data.Height,
                            NumClasses = data.NumClasses,
                            BaseChannels = parse.GetValue(baseChannels),
                            Text = data.HasReports
                                ? new TextEncoderConfig
                                {
                                    KnownTokens = ReportVocabulary.KnownTokens(data.Reports!, data.PatientIds),
                                }
                                : null,
                        },
                        Diffusion = new DiffusionConfig
                        {
                            Timesteps = parse.GetValue(timesteps),
                            Schedule = parse.GetValue(schedule),
                        },
                        Training = new TrainingConfig
                        {
                            Steps = parse.GetValue(steps),
                            BatchSize = parse.GetValue(batchSize),
                            LearningRate = parse.GetValue(learningRate),
                            Seed = parse.GetValue(seed),
                        },
                    };

                    using var trainer = OpenTrainer(config, checkpoint, parse.GetValue(fresh), torchDevice);
                    var started = DateTime.UtcNow;
                    await Task.Run(
                        () =>
                            TrainingProgressDisplay.Run("train", trainer.Config.Training.Steps, trainer.Step, report =>
                                trainer.Train(data, checkpoint, report, cancellationToken)
                            ),
                        cancellationToken
                    );
                    AnsiConsole.WriteLine(
                        $"trained to step {trainer.Step} in {(DateTime.UtcNow - started).TotalSeconds:F0} s; "
                            + $"checkpoint {checkpoint}"
                    );

                    LossCurve.Write(
                        trainer.LossHistory,
                        Path.Combine(outDir, "loss.csv"),
                        Path.Combine(outDir, "loss.png")
                    );
                    var sampler = SamplerCatalog.Create(
                        SamplerCatalog.Ddim,
                        trainer.Diffusion,
                        parse.GetValue(samplingSteps)
                    );
                    trainer.Ema.eval();
                    SampleGrid.Write(
                        trainer.Ema,
                        sampler,
                        parse.GetValue(perClass),
                        parse.GetValue(guidance),
                        parse.GetValue(seed),
                        Path.Combine(outDir, "samples.png")
                    );
                    return 0;
                })
        );
        return command;
    }

    private static DiffusionTrainer OpenTrainer(
        DiffusionModelConfig config,
        string checkpoint,
        bool fresh,
        TorchSharp.torch.Device device
    )
    {
        if (fresh || !File.Exists(checkpoint))
            return new DiffusionTrainer(config, device);
        var saved = DiffusionCheckpoint.ReadHeader(checkpoint).Config;
        if (!saved.CanResumeAs(config))
            throw new ArgumentException(
                $"{checkpoint} was written with different settings; pass --fresh to start over or use another --out."
            );
        var trainer = DiffusionTrainer.Resume(checkpoint, device, targetSteps: config.Training.Steps);
        AnsiConsole.WriteLine($"resuming from {checkpoint} at step {trainer.Step}");
        return trainer;
    }
}
