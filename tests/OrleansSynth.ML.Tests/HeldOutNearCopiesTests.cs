using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// A held-out image that is a near-copy of a training record is not an unseen person: it must not set the threshold
/// (it would spend the false flags alpha allows) nor count as a false flag in the control, and the report counts it.
/// </summary>
[Collection(FashionMnistCollection.Name)]
public class HeldOutNearCopiesTests(FashionMnistFixture fashion)
{
    [Fact]
    public void HeldOutCopiesOfTrainingRecordsAreLeftOutOfCalibrationAndControlAndCounted()
    {
        using var files = new TestFiles();
        var training = fashion.Train.Subset(Enumerable.Range(0, 3000).ToArray(), "fashion-mnist/train-3k");
        // 40 held-out images that are exact copies of training records, under ids of their own.
        var copied = Enumerable.Range(0, 40).Select(i => i * 70).ToArray();
        var pixels = copied.SelectMany(i => training.ImageAt(i).ToArray()).ToArray();
        var copies = new ImageDataset(
            "copies",
            pixels,
            1,
            28,
            28,
            copied.Select(i => training.Labels[i]).ToArray(),
            copied.Select(i => $"held-out-copy-{i}").ToArray(),
            numClasses: training.NumClasses
        );
        var heldOut = fashion
            .Test.Subset(Enumerable.Range(0, 2000).ToArray())
            .Append(copies, "fashion-mnist/test-2k-with-copies");
        var settings = new AuditSettings { Alpha = 0.01, Canaries = 0 };

        using var reference = AuditPreparation.Prepare(
            training,
            heldOut,
            new ReidentificationEncoderConfig { Steps = 100, BatchSize = 64 },
            settings,
            files.PathOf("cache"),
            CPU
        );

        var calibration = reference.Model.Calibration;
        // Every planted copy is left out; so may be a test image that happens to copy one of the 3,000 records.
        Assert.InRange(reference.HeldOutNearCopies, 40, 45);
        Assert.Equal(heldOut.Count, calibration.HeldOutCount + reference.Control.Count + reference.HeldOutNearCopies);
        Assert.DoesNotContain(reference.Control.RecordIds, id => id.StartsWith("held-out-copy-"));
        // The threshold was set on unseen images only: at alpha 1% it stays below an exact copy's similarity of 1.
        Assert.True(calibration.Threshold < 0.999f, $"threshold {calibration.Threshold}");

        var report = PrivacyAuditor.Audit(
            reference,
            fashion.Test.Subset(Enumerable.Range(6000, 100).ToArray(), "unseen"),
            settings
        );
        Assert.Equal(reference.HeldOutNearCopies, report.Summary.HeldOutNearCopies);
        Assert.Equal(reference.Control.Count, report.Summary.ControlRecords);
    }
}
