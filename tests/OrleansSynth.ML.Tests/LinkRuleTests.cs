using OrleansSynth.ML.Audit;

namespace OrleansSynth.ML.Tests;

public class LinkRuleTests
{
    [Fact]
    public void ContrastIsOneForAnExactMatchAndNearZeroAmongLookAlikes()
    {
        Assert.Equal(1f, LinkRule.Contrast([1f, 0.5f, 0.4f], 3), 3);
        Assert.InRange(LinkRule.Contrast([0.95f, 0.949f, 0.948f], 3), 0f, 0.05f);
        // A perturbed copy whose source stands apart: lower similarity, higher contrast than a crowded look-alike.
        Assert.True(LinkRule.Contrast([0.90f, 0.70f, 0.65f], 3) > LinkRule.Contrast([0.96f, 0.95f, 0.95f], 3));
    }

    [Fact]
    public void ContrastLeavesOutEmptySlotsAndNeedsTwoRecords()
    {
        Assert.Equal(LinkRule.Contrast([0.9f, 0.5f], 2), LinkRule.Contrast([0.9f, 0.5f, float.NegativeInfinity], 3));
        Assert.Equal(0f, LinkRule.Contrast([0.9f, float.NegativeInfinity, float.NegativeInfinity], 3));
        Assert.Equal(0f, LinkRule.Contrast([0.9f, 0.5f, 0.4f], 1));
    }

    [Fact]
    public void CalibrationFlagsAtMostAlphaOfHeldOutImagesWithBothArmsTogether()
    {
        var random = new Random(5);
        var similarity = Enumerable.Range(0, 2000).Select(_ => (float)random.NextDouble()).ToArray();
        var contrast = Enumerable.Range(0, 2000).Select(_ => (float)random.NextDouble()).ToArray();
        var rule = LinkRule.Calibrate(similarity, contrast, 3, alpha: 0.02);

        var flagged = similarity.Zip(contrast).Count(p => rule.Links(p.First, p.Second));
        Assert.Equal(rule.HeldOutFlagged, flagged);
        Assert.InRange(flagged, 30, 40); // independent arms: about 20 + 20 minus overlap, at most floor(0.02 x 2000)
        // Each arm alone flags about half the allowance, so both thresholds sit above the alpha quantile of their own
        // scores.
        Assert.True(similarity.Count(s => s > rule.SimilarityThreshold) < 40);
        Assert.True(contrast.Count(c => c > rule.ContrastThreshold) < 40);
    }

    [Fact]
    public void CalibrationOnIdenticalArmsUsesTheWholeAllowance()
    {
        var scores = Enumerable.Range(0, 1000).Select(i => i / 1000f).ToArray();
        var rule = LinkRule.Calibrate(scores, scores, 3, alpha: 0.01);
        Assert.Equal(10, rule.HeldOutFlagged);
        Assert.Equal(0.989f, rule.SimilarityThreshold);
        Assert.Equal(0.989f, rule.ContrastThreshold);
    }

    [Fact]
    public void CalibrationRefusesBadInput()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LinkRule.Calibrate([0.5f], [0.5f], 3, alpha: 1));
        Assert.Throws<ArgumentException>(() => LinkRule.Calibrate([], [], 3, alpha: 0.01));
        Assert.Throws<ArgumentException>(() => LinkRule.Calibrate([0.5f, 0.6f], [0.5f], 3, alpha: 0.01));
    }
}
