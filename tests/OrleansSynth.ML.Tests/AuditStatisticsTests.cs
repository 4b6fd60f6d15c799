using OrleansSynth.ML.Audit;

namespace OrleansSynth.ML.Tests;

public class AuditStatisticsTests
{
    [Fact]
    public void ThresholdFlagsAtMostAlphaOfHeldOutScores()
    {
        var scores = Enumerable.Range(0, 1000).Select(i => i / 1000f).ToArray();
        var calibration = ThresholdCalibration.FromHeldOutScores(scores, 0.01, 5000);
        Assert.Equal(10, calibration.HeldOutFlagged);
        Assert.Equal(0.989f, calibration.Threshold);
        Assert.Equal(1000, calibration.HeldOutCount);
    }

    [Fact]
    public void AucIsOneForSeparatedScoresAndHalfForIdenticalOnes()
    {
        Assert.Equal(1.0, RocAuc.Compute([0.9f, 0.8f], [0.1f, 0.2f, 0.3f]));
        Assert.Equal(0.5, RocAuc.Compute([0.5f, 0.5f], [0.5f]));
        Assert.Equal(0.75, RocAuc.Compute([0.6f, 0.4f], [0.5f, 0.1f]));
    }

    [Fact]
    public void WilsonIntervalContainsTheRateAndNarrowsWithMoreTrials()
    {
        var small = Proportion.Wilson(5, 50);
        var large = Proportion.Wilson(500, 5000);
        Assert.InRange(0.1, small.Lower, small.Upper);
        Assert.True(large.Upper - large.Lower < small.Upper - small.Lower);
        Assert.Equal(0, Proportion.Wilson(0, 100).Lower);
    }

    [Theory]
    [InlineData(7, 20)]
    [InlineData(0, 10)]
    [InlineData(50, 100)]
    public void BinomialPValueMatchesTheExactSum(int k, int n)
    {
        // Direct sum over outcomes no more likely than k, with exact binomial coefficients.
        double Pmf(int i) => Enumerable.Range(1, i).Aggregate(1.0, (c, j) => c * (n - i + j) / j) / Math.Pow(2, n);
        var expected = Math.Min(1, Enumerable.Range(0, n + 1).Where(i => Pmf(i) <= Pmf(k) * (1 + 1e-9)).Sum(Pmf));
        Assert.Equal(expected, HoldoutDistanceTest.BinomialTwoSidedP(k, n), 6);
    }
}
