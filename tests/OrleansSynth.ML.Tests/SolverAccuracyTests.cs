using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>On a trained model both deterministic samplers approximate one ODE; the second-order one, closer at few
/// steps.</summary>
[Collection(FashionMnistCollection.Name)]
public class SolverAccuracyTests(FashionMnistFixture fashion, ITestOutputHelper output)
{
    [Fact]
    public void DpmSolverAtFewStepsIsCloserThanDdimToTheFineSolution()
    {
        using var trainer = new DiffusionTrainer(TinyModels.Diffusion(steps: 300));
        trainer.Train(fashion.BalancedTrainSubset(100));
        var model = trainer.Ema;
        model.eval();
        var request = new SamplingRequest(
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5],
            Seed: 7,
            GuidanceScale: 1.0
        );
        var timesteps = trainer.Diffusion.Schedule.Timesteps;
        using var fine = new DdimSampler(trainer.Diffusion, timesteps).Sample(model, request);
        using var ddim = new DdimSampler(trainer.Diffusion, 5).Sample(model, request);
        using var dpm = new DpmSolverSampler(trainer.Diffusion, 5).Sample(model, request);

        var ddimError = (ddim - fine).abs().mean().item<float>();
        var dpmError = (dpm - fine).abs().mean().item<float>();
        output.WriteLine(
            $"mean |error| against DDIM-{timesteps}: DPM-Solver++ 5 steps {dpmError:F4}, DDIM 5 steps {ddimError:F4}"
        );
        Assert.True(
            dpmError < ddimError,
            $"mean |error| against DDIM-{timesteps}: DPM-Solver++ 5 steps {dpmError:F4}, DDIM 5 steps {ddimError:F4}"
        );
    }

    [Fact]
    public void DpmSolverRejectsAsManyStepsAsTheSchedule() =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new DpmSolverSampler(new GaussianDiffusion(new DiffusionConfig { Timesteps = 30 }), steps: 30)
        );
}
