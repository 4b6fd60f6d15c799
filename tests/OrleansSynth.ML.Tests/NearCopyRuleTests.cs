using OrleansSynth.ML.Audit;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// The near-copy rule's tolerance is calibrated on held-out images, so on sparse images, where distinct people lie
/// within 2% of each other, it does not flag unseen people beyond what alpha allows.
/// </summary>
[Collection(FashionMnistCollection.Name)]
public class NearCopyRuleTests(FashionMnistFixture fashion)
{
    [Fact]
    public void KeepsTheCeilingWhereFewHeldOutImagesComeClose()
    {
        var differences = Enumerable.Range(0, 1000).Select(i => 0.03 + i * 1e-4).Prepend(0.01).ToArray();
        Assert.Equal(0.02, NearCopyRule.Calibrate(differences, ceiling: 0.02, alpha: 0.02, share: 0.25));
    }

    [Fact]
    public void ShrinksUntilAtMostItsShareOfAlphaIsWithin()
    {
        // 1,000 held-out images, all within 2%: alpha 2% x share 0.25 allows 5 of them.
        var differences = Enumerable.Range(0, 1000).Select(i => 0.001 + i * 1e-5).ToArray();
        var tolerance = NearCopyRule.Calibrate(differences, ceiling: 0.02, alpha: 0.02, share: 0.25);
        Assert.Equal(5, differences.Count(d => d <= tolerance));
    }

    [Fact]
    public void ExactCopiesStayCopies()
    {
        var differences = Enumerable.Repeat(0.0, 50).Concat(Enumerable.Repeat(0.005, 950)).ToArray();
        var tolerance = NearCopyRule.Calibrate(differences, ceiling: 0.02, alpha: 0.02, share: 0.25);
        Assert.Equal(0, tolerance);
    }

    [Fact]
    public void OnSparseImagesUnseenPeopleAreFlaggedAtAboutAlpha()
    {
        using var files = new TestFiles();
        // Half-size garments on black: 7% mean intensity, most test images within 2% of some training image.
        var training = SparseThumbnails.Of(fashion.Train.Subset(Enumerable.Range(0, 3000).ToArray(), "train-3k"));
        var heldOut = SparseThumbnails.Of(fashion.Test.Subset(Enumerable.Range(0, 4000).ToArray(), "test-4k"));
        var unseen = SparseThumbnails.Of(fashion.Test.Subset(Enumerable.Range(4000, 6000).ToArray(), "unseen"));
        var settings = new AuditSettings { Alpha = 0.02, Canaries = 0 };
        using var reference = AuditPreparation.Prepare(
            training,
            heldOut,
            new ReidentificationEncoderConfig { Steps = 200 },
            settings,
            files.PathOf("cache"),
            CPU
        );
        var withinCeiling = Enumerable
            .Range(0, unseen.Count)
            .Count(i =>
                Enumerable
                    .Range(0, training.Count)
                    .Any(j => AuditReference.PixelDifference(unseen.ImageAt(i), training.ImageAt(j)) <= 0.02)
            );
        var report = PrivacyAuditor.Audit(reference, unseen, settings);

        // A fixed 2% tolerance would have flagged most of them; the calibrated one is far tighter.
        Assert.True(
            withinCeiling > unseen.Count / 2,
            $"only {withinCeiling} of {unseen.Count} unseen images within 2%: not sparse enough"
        );
        Assert.True(reference.NearCopyTolerance < 0.01, $"near-copy tolerance {reference.NearCopyTolerance:P2}");
        // alpha = 2%, set on about 2,000 held-out images and checked on 6,000 others: the two samples' spread together
        // is 0.36 points, so a rate of 3.1% or more would be a 1-in-1000 event if calibration were right.
        var rate = (double)report.Summary.Flagged / unseen.Count;
        Assert.True(rate < 0.031, $"flagged {report.Summary.Flagged} of {unseen.Count} unseen sparse images");
    }
}
