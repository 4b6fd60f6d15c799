using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

[Collection(FashionMnistCollection.Name)]
public class DiffusionTrainingTests(FashionMnistFixture fashion)
{
    [Fact]
    public void TinyUNetTrainedForAFewHundredStepsLowersItsLossClearly()
    {
        var subset = fashion.BalancedTrainSubset(100);
        using var trainer = new DiffusionTrainer(TinyModels.Diffusion(steps: 300));
        var reports = new List<TrainingProgress>();
        trainer.Train(subset, progress: reports.Add);

        Assert.Equal(300, trainer.Step);
        Assert.Equal(30, reports.Count);
        Assert.All(reports, r => Assert.True(r.ImagesPerSecond > 0));
        var early = trainer.LossHistory[0].Loss;
        var late = trainer.LossHistory.TakeLast(5).Average(p => p.Loss);
        Assert.True(late < 0.5 * early, $"loss went from {early:F3} to {late:F3}");
    }

    /// <summary>In either arithmetic (forced, so any CPU runs both; <see cref="BFloat16TrainingTests"/>).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ResumingFromAMidwayCheckpointEndsBitIdenticalToAnUninterruptedRun(bool bfloat16)
    {
        var subset = fashion.BalancedTrainSubset(20);
        using var files = new TestFiles();
        var checkpoint = files.PathOf("run.ckpt");
        DiffusionModelConfig Config(int checkpointEvery)
        {
            var config = TinyModels.Diffusion(steps: 30, checkpointEvery);
            return config with { Training = config.Training with { BFloat16 = bfloat16 } };
        }

        using var uninterrupted = new DiffusionTrainer(Config(checkpointEvery: 0));
        uninterrupted.Train(subset);

        using (var first = new DiffusionTrainer(Config(checkpointEvery: 10)))
            first.Train(subset, checkpoint, stopAfterStep: 17);
        var header = DiffusionCheckpoint.ReadHeader(checkpoint);
        Assert.Equal((17, bfloat16), (header.Step, header.Config.Training.BFloat16));
        using var resumed = DiffusionTrainer.Resume(checkpoint);
        Assert.Equal(17, resumed.Step);
        resumed.Train(subset, checkpoint);

        Assert.Equal(30, resumed.Step);
        Assert.Equal(uninterrupted.LossHistory.Select(p => p.Step), resumed.LossHistory.Select(p => p.Step));
        ModelAssert.SameWeights(uninterrupted.Model, resumed.Model);
        ModelAssert.SameWeights(uninterrupted.Ema, resumed.Ema);
    }

    [Fact]
    public void ACheckpointFromBeforeTheTrainingRecipeResumesWithoutIt()
    {
        var subset = fashion.BalancedTrainSubset(20);
        using var files = new TestFiles();
        var (current, older) = (files.PathOf("current.ckpt"), files.PathOf("older.ckpt"));
        var config = TinyModels.Diffusion(steps: 30, checkpointEvery: 10);
        using (var first = new DiffusionTrainer(config with { Training = config.Training with { BFloat16 = true } }))
            first.Train(subset, current, stopAfterStep: 10);
        // The same file as written before the recipe's three settings existed: its header without them.
        using (var reader = new BinaryReader(File.OpenRead(current)))
        using (var writer = new BinaryWriter(File.Create(older)))
        {
            writer.Write(reader.ReadString());
            writer.Write(reader.ReadInt32());
            var header = reader.ReadString();
            Assert.Contains("\"CosineDecay\":true", header);
            Assert.Contains("\"MinSnrGamma\":5", header);
            Assert.Contains(",\"BFloat16\":true", header);
            writer.Write(
                header
                    .Replace("\"CosineDecay\":true,", "")
                    .Replace("\"MinSnrGamma\":5,", "")
                    .Replace(",\"BFloat16\":true", "")
            );
            reader.BaseStream.CopyTo(writer.BaseStream);
        }

        using var resumedCurrent = DiffusionTrainer.Resume(current);
        using var resumedOlder = DiffusionTrainer.Resume(older);
        Assert.Equal((true, 5.0, true), RecipeOf(resumedCurrent));
        Assert.Equal((false, 0.0, false), RecipeOf(resumedOlder));
        // The arithmetic a checkpoint names does not stop an unsettled config (a lab run's) from resuming it.
        Assert.True(resumedCurrent.Config.CanResumeAs(TinyModels.Diffusion(steps: 60, checkpointEvery: 10)));
        Assert.Equal(10, resumedOlder.Step);
        resumedOlder.Train(subset);
        Assert.Equal(30, resumedOlder.Step);

        static (bool, double, bool?) RecipeOf(DiffusionTrainer trainer) =>
            (
                trainer.Config.Training.CosineDecay,
                trainer.Config.Training.MinSnrGamma,
                trainer.Config.Training.BFloat16
            );
    }

    [Fact]
    public void CancellingTrainingCheckpointsTheStepsAlreadyDone()
    {
        var subset = fashion.BalancedTrainSubset(10);
        using var files = new TestFiles();
        var checkpoint = files.PathOf("cancel.ckpt");
        using var cancellation = new CancellationTokenSource();
        using var trainer = new DiffusionTrainer(TinyModels.Diffusion(steps: 1000, checkpointEvery: 0));
        Assert.Throws<OperationCanceledException>(() =>
            trainer.Train(
                subset,
                checkpoint,
                progress: p =>
                {
                    if (p.Step >= 20)
                        cancellation.Cancel();
                },
                cancellationToken: cancellation.Token
            )
        );
        Assert.Equal(20, DiffusionCheckpoint.ReadHeader(checkpoint).Step);
    }

    [Fact]
    public void TrainingOnImagesOfTheWrongSizeIsRefusedWithAClearMessage()
    {
        var wrong = new Data.ImageDataset("wrong", new byte[2 * 32 * 32], 1, 32, 32, [0, 1], ["a", "b"]);
        using var trainer = new DiffusionTrainer(TinyModels.Diffusion(steps: 1));
        var error = Assert.Throws<ArgumentException>(() => trainer.Train(wrong));
        Assert.Contains("1x32x32", error.Message);
        Assert.Contains("1x28x28", error.Message);
    }

    [Fact]
    public void StepsWithNonFiniteGradientsLeaveTheWeightsAloneAndARunOfThemStopsWithAClearError()
    {
        var subset = fashion.BalancedTrainSubset(20);
        var config = TinyModels.Diffusion(steps: 100);
        // The first step at this rate overflows the activations; every later gradient is NaN.
        config = config with { Training = config.Training with { LearningRate = 1e30, WarmupSteps = 0 } };
        using var trainer = new DiffusionTrainer(config);

        var error = Assert.Throws<InvalidOperationException>(() => trainer.Train(subset));

        Assert.Contains("non-finite gradients", error.Message);
        Assert.Equal(DiffusionTrainer.MaxConsecutiveSkippedSteps + 1, trainer.SkippedSteps);
        Assert.Equal(1 + DiffusionTrainer.MaxConsecutiveSkippedSteps, trainer.Step);
        Assert.All(trainer.Model.parameters().Concat(trainer.Ema.parameters()), p =>
            Assert.True(p.isfinite().all().item<bool>())
        );
    }

    [Fact]
    public void AReleasedModelHoldsOnlyTheEmaWeightsArchitectureAndScheduleAndStillSamples()
    {
        var subset = fashion.BalancedTrainSubset(20);
        using var files = new TestFiles();
        var (checkpoint, released) = (files.PathOf("run.ckpt"), files.PathOf("student.ckpt"));
        var config = TinyModels.Diffusion(steps: 10, seed: 987654321);
        using var trainer = new DiffusionTrainer(config);
        trainer.Train(subset, checkpoint);

        DiffusionCheckpoint.WriteRelease(checkpoint, released);

        using (var reader = new BinaryReader(File.OpenRead(released)))
        {
            reader.ReadString();
            reader.ReadInt32();
            // The header names the network and the forward process, nothing of the run.
            var header = JsonNode.Parse(reader.ReadString())!.AsObject();
            Assert.Equal(["Config"], header.Select(p => p.Key));
            Assert.Equal(["Diffusion", "Model"], header["Config"]!.AsObject().Select(p => p.Key).Order());
            // Exactly one module's weights follow, the EMA's: no live weights, no optimizer state.
            using var stored = new Models.UNet(config.Model);
            stored.load(reader);
            Assert.Equal(reader.BaseStream.Length, reader.BaseStream.Position);
            ModelAssert.SameWeights(trainer.Ema, stored);
            Assert.Contains(trainer.Model.state_dict(), p =>
                !p.Value.eq(stored.state_dict()[p.Key]).all().item<bool>()
            );
        }
        var bytes = Encoding.Latin1.GetString(File.ReadAllBytes(released));
        foreach (var absent in new[] { "Seed", "987654321", "Training", "LossHistory", "DatasetName" })
            Assert.DoesNotContain(absent, bytes);

        // The same loader samples it exactly as it samples the training checkpoint's EMA weights.
        var (model, loaded) = DiffusionCheckpoint.LoadForSampling(released);
        var (reference, _) = DiffusionCheckpoint.LoadForSampling(checkpoint);
        using (model)
        using (reference)
        {
            Assert.Equal(JsonSerializer.Serialize(config.Model), JsonSerializer.Serialize(loaded.Config.Model));
            Assert.Equal(config.Diffusion, loaded.Config.Diffusion);
            var sampler = Diffusion.SamplerCatalog.Create(
                Diffusion.SamplerCatalog.Ddim,
                new Diffusion.GaussianDiffusion(loaded.Config.Diffusion),
                steps: 5
            );
            using var a = sampler.Sample(model, new Diffusion.SamplingRequest([0, 3], Seed: 7));
            using var b = sampler.Sample(reference, new Diffusion.SamplingRequest([0, 3], Seed: 7));
            Assert.True(a.eq(b).all().item<bool>());
        }

        // It cannot pass for a training run.
        var error = Assert.Throws<InvalidDataException>(() => DiffusionTrainer.Resume(released));
        Assert.Contains("cannot resume", error.Message);
    }

    [Fact]
    public void TrainerModelsHaveEveryParameterOfTheUNet()
    {
        // Regression: building modules inside a dispose scope once silently dropped the label embedding.
        var config = TinyModels.Diffusion(steps: 1);
        using var reference = new Models.UNet(config.Model);
        using var trainer = new DiffusionTrainer(config);
        Assert.Equal(reference.state_dict().Keys.Order(), trainer.Model.state_dict().Keys.Order());
        Assert.Equal(reference.state_dict().Keys.Order(), trainer.Ema.state_dict().Keys.Order());
        Assert.Contains("labelEmbedding.weight", trainer.Model.state_dict().Keys);
    }

    [Fact]
    public void TheLearningRateWarmsUpThenFollowsAHalfCosineToZeroAtTheLastStep()
    {
        var config = TinyModels.Diffusion(steps: 220); // warm-up 20 steps, peak 2e-3
        using var trainer = new DiffusionTrainer(config);
        Assert.Equal(2e-3 / 20, trainer.LearningRateAt(0), 12);
        Assert.Equal(2e-3, trainer.LearningRateAt(19), 12);
        Assert.Equal(2e-3, trainer.LearningRateAt(20), 12);
        Assert.Equal(1e-3, trainer.LearningRateAt(120), 12);
        Assert.Equal(0, trainer.LearningRateAt(220), 12);
        var decaying = Enumerable.Range(20, 200).Select(trainer.LearningRateAt).ToArray();
        Assert.True(
            decaying.Zip(decaying.Skip(1)).All(p => p.Second < p.First),
            "the rate must fall at every step after warm-up"
        );

        using var flat = new DiffusionTrainer(config with { Training = config.Training with { CosineDecay = false } });
        Assert.Equal(2e-3, flat.LearningRateAt(200), 12);
    }

    [Fact]
    public void MinSnrWeightingDiscountsOnlyTheNearlyCleanTimesteps()
    {
        var diffusion = new Diffusion.GaussianDiffusion(new Diffusion.DiffusionConfig { Timesteps = 1000 });
        var weights = diffusion.MinSnrWeights(gamma: 5);
        var snr = diffusion.Schedule.AlphaBars.Select(a => a / (1 - a)).ToArray();
        for (var t = 0; t < weights.Length; t++)
        {
            if (snr[t] <= 5)
                Assert.Equal(1f, weights[t]);
            else
                Assert.Equal(5 / snr[t], weights[t], 4);
        }
        Assert.True(weights[0] < 0.01f, $"the cleanest timestep weighs {weights[0]}");
        Assert.True(
            weights.Zip(weights.Skip(1)).All(p => p.Second >= p.First),
            "weights must not fall as the noise grows"
        );
        Assert.Contains(weights, w => w < 1f);
        Assert.Contains(weights, w => w == 1f);
    }
}
