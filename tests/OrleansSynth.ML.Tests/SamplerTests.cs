using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

public class SamplerTests
{
    private static readonly UNetConfig Config = TinyModels.Diffusion(1).Model;
    private static readonly GaussianDiffusion Diffusion = new(new DiffusionConfig { Timesteps = 30 });

    public static TheoryData<string> Samplers => ["ddpm", "ddim-eta0", "ddim-eta1", "dpm-solver++"];

    private static IDiffusionSampler Create(string name) =>
        name switch
        {
            "ddpm" => new DdpmSampler(Diffusion),
            "ddim-eta0" => new DdimSampler(Diffusion, steps: 8, eta: 0.0),
            "dpm-solver++" => new DpmSolverSampler(Diffusion, steps: 8),
            _ => new DdimSampler(Diffusion, steps: 8, eta: 1.0),
        };

    [Theory]
    [MemberData(nameof(Samplers))]
    public void SamplesHaveTheRequestedShapeAndStayInRange(string name)
    {
        manual_seed(3);
        using var model = new UNet(Config);
        model.eval();
        var steps = new List<int>();
        using var images = Create(name)
            .Sample(model, new SamplingRequest([0, 3, 9, 10, 5], Seed: 11, GuidanceScale: 2.0), (done, _) =>
                steps.Add(done)
            );

        Assert.Equal(new long[] { 5, 1, 28, 28 }, images.shape);
        Assert.True(images.min().item<float>() >= -1f && images.max().item<float>() <= 1f);
        Assert.False(images.isnan().any().item<bool>());
        Assert.Equal(Create(name).StepCount, steps.Count);
    }

    [Theory]
    [MemberData(nameof(Samplers))]
    public void SameSeedGivesTheSameImagesAndAnotherSeedDoesNot(string name)
    {
        manual_seed(3);
        using var model = new UNet(Config);
        model.eval();
        var sampler = Create(name);
        using var a = sampler.Sample(model, new SamplingRequest([1, 2], Seed: 5));
        using var b = sampler.Sample(model, new SamplingRequest([1, 2], Seed: 5));
        using var c = sampler.Sample(model, new SamplingRequest([1, 2], Seed: 6));
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(c).all().item<bool>());
    }

    [Fact]
    public void TheCatalogBuildsEveryNamedSamplerWithItsStepsCappedAtTheSchedule()
    {
        Assert.Equal(
            [8, 8, 30],
            SamplerCatalog.Names.Select(n => SamplerCatalog.Create(n, Diffusion, steps: 8).StepCount)
        );
        // 30 timesteps: DDIM can take every one, DPM-Solver++ needs one to look back on.
        Assert.Equal(30, SamplerCatalog.Create(SamplerCatalog.Ddim, Diffusion, steps: 1000).StepCount);
        Assert.Equal(29, SamplerCatalog.Create(SamplerCatalog.DpmSolverPlusPlus, Diffusion, steps: 1000).StepCount);
        Assert.Contains(
            "use ddim, dpm-solver++, ddpm",
            Assert.Throws<ArgumentException>(() => SamplerCatalog.Create("euler", Diffusion, 8)).Message
        );
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(1.0)]
    public void ALargeBatchIsEvaluatedInSlicesThatKeepEveryRowWithItsOwnLabelAndTimestep(double guidance)
    {
        manual_seed(5);
        using var model = new UNet(Config);
        model.eval();
        using var noGrad = no_grad();
        const int count = GaussianDiffusion.CpuRowsPerEvaluation + 40; // two slices unguided, three guided
        using var x = randn(count, 1, 28, 28);
        using var timesteps = randint(0, 30, [count], dtype: int64);
        using Scalar labelCount = 11L; // 10 is the null label
        using var labels = TensorArithmetic.Range(count, int64, CPU).remainder(labelCount);
        using var whole = Diffusion.GuidedNoise(model, x, timesteps, labels, guidance);

        Assert.Equal(new long[] { count, 1, 28, 28 }, whole.shape);
        // Rows at the start, across each slice boundary and at the end, each evaluated alone.
        foreach (var row in new[] { 0, 63, 64, 65, 127, 128, count - 1 })
        {
            using var alone = Diffusion.GuidedNoise(
                model,
                x.narrow(0, row, 1),
                timesteps.narrow(0, row, 1),
                labels.narrow(0, row, 1),
                guidance
            );
            using var fromWhole = whole.narrow(0, row, 1);
            Assert.True(alone.allclose(fromWhole, rtol: 1e-4, atol: 1e-5), $"row {row} differs");
        }
    }

    [Fact]
    public void LabelsOutsideTheModelAreRejected()
    {
        using var model = new UNet(Config);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new DdimSampler(Diffusion, 4).Sample(model, new SamplingRequest([11], 1))
        );
        Assert.Contains("Label 11", error.Message);
    }

    [Fact]
    public void DdimRejectsMoreStepsThanTheSchedule() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DdimSampler(Diffusion, steps: 31));
}
