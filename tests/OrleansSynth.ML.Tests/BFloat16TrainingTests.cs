using OrleansSynth.ML.Runtime;
using OrleansSynth.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>Diffusion training whose passes run on a bfloat16 working copy (forced here, so any CPU runs it): the
/// weights and EMA stay 32-bit and the run follows the 32-bit one (its exact resumption:
/// <see cref="DiffusionTrainingTests"/>).</summary>
[Collection(FashionMnistCollection.Name)]
public class BFloat16TrainingTests(FashionMnistFixture fashion)
{
    [Fact]
    public void TheArithmeticIsSettledPerDeviceAndAnExplicitChoiceIsKeptOnACpu()
    {
        var unsettled = new TrainingConfig();
        Assert.Equal(BFloat16Arithmetic.IsNativeOnCpu, unsettled.ForDevice(CPU).BFloat16);
        Assert.False((unsettled with { BFloat16 = true }).ForDevice(new Device(DeviceType.CUDA, 0)).BFloat16);
        Assert.False((unsettled with { BFloat16 = false }).ForDevice(CPU).BFloat16);
        Assert.True((unsettled with { BFloat16 = true }).ForDevice(CPU).BFloat16);
    }

    [Fact]
    public void A40StepRunKeeps32BitWeightsAndEndsNearThe32BitRunsLoss()
    {
        var subset = fashion.BalancedTrainSubset(100);
        using var exact = new DiffusionTrainer(Config(steps: 40, bfloat16: false));
        using var rounded = new DiffusionTrainer(Config(steps: 40, bfloat16: true));
        exact.Train(subset);
        rounded.Train(subset);

        Assert.True(rounded.Config.Training.BFloat16);
        Assert.All(rounded.Model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.All(rounded.Ema.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        var (first, last) = (rounded.LossHistory[0].Loss, rounded.LossHistory[^1].Loss);
        Assert.True(last < 0.7 * first, $"bfloat16 loss went from {first:F3} to {last:F3}");
        var exactLast = exact.LossHistory[^1].Loss;
        Assert.True(
            Math.Abs(last - exactLast) < 0.15 * exactLast,
            $"last loss {last:F4} in bfloat16 against {exactLast:F4} in 32-bit floats"
        );
    }

    private static DiffusionModelConfig Config(int steps, bool bfloat16)
    {
        var config = TinyModels.Diffusion(steps);
        return config with { Training = config.Training with { BFloat16 = bfloat16 } };
    }
}
