using OrleansSynth.Grains.Sampling;

namespace OrleansSynth.Cluster.Tests;

public class SampleLabelsTests
{
    [Fact]
    public void BalancedLabelsCycleThroughTheClasses() =>
        Assert.Equal([0L, 1, 2, 0, 1, 2, 0], SampleLabels.For(7, 3, null));

    [Fact]
    public void ProportionalLabelsMatchTheCountsExactlyAndInterleave()
    {
        var labels = SampleLabels.For(100, 3, [600, 300, 100]);
        Assert.Equal(100, labels.Length);
        Assert.Equal([60, 30, 10], Enumerable.Range(0, 3).Select(c => labels.Count(l => l == c)));
        // Any stretch of 20 holds every common class: no long runs of one label.
        Assert.All(Enumerable.Range(0, 80), start =>
            Assert.Equal(2, labels.Skip(start).Take(20).Where(l => l < 2).Distinct().Count())
        );
    }

    [Fact]
    public void QuotasAddUpWhenTheProportionsDoNotDivideEvenly()
    {
        var labels = SampleLabels.For(10, 3, [1, 1, 1]);
        Assert.Equal(10, labels.Length);
        Assert.Equal([4, 3, 3], Enumerable.Range(0, 3).Select(c => labels.Count(l => l == c)));
    }
}
