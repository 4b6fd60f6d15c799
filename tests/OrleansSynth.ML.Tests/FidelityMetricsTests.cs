using OrleansSynth.ML.Evaluation;
using OrleansSynth.ML.Runtime;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

public class FidelityMetricsTests
{
    [Fact]
    public void FrechetDistanceIsZeroForOneSetAndTheSquaredShiftForShiftedGaussians()
    {
        manual_seed(1);
        using var a = randn(4000, 8);
        using var b = randn(4000, 8);
        using var shifted = b.Plus(3.0);
        Assert.InRange(FrechetDistance.Compute(a, a), 0, 1e-6);
        Assert.InRange(FrechetDistance.Compute(a, b), 0, 0.1);
        // Means 3 apart in each of 8 dimensions: 8 x 9 = 72.
        Assert.InRange(FrechetDistance.Compute(a, shifted), 70, 74);
    }

    [Fact]
    public void FrechetDistanceSeesADifferentSpread()
    {
        manual_seed(2);
        using var a = randn(4000, 4);
        using var wide = randn(4000, 4).Times(2);
        // Per dimension (1 - 2)^2 = 1 from the standard deviations: 4 in all.
        Assert.InRange(FrechetDistance.Compute(a, wide), 3.6, 4.4);
    }

    [Fact]
    public void ManifoldMetricsSeparateFidelityFromCoverage()
    {
        manual_seed(3);
        using var real = randn(600, 4);
        using var sameDistribution = randn(600, 4);
        var good = ManifoldMetrics.Compute(real, sameDistribution);
        Assert.True(good.Precision > 0.8 && good.Recall > 0.8 && good.Coverage > 0.8, good.ToString());

        // Mode collapse: every sample near one real point. Precise, but covers little of the real set.
        using var collapsed = real[0].unsqueeze(0).Plus(randn(600, 4).Times(0.01));
        var narrow = ManifoldMetrics.Compute(real, collapsed);
        Assert.True(narrow.Precision > 0.9, narrow.ToString());
        Assert.True(narrow.Recall < 0.2 && narrow.Coverage < 0.1, narrow.ToString());

        // Far away: neither precise nor covering.
        using var far = randn(600, 4).Plus(10);
        var off = ManifoldMetrics.Compute(real, far);
        Assert.True(off.Precision < 0.05 && off.Coverage < 0.05, off.ToString());
    }
}
