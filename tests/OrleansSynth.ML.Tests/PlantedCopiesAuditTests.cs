using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Imaging;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// The audit on real Fashion-MNIST with planted copies: exact and lightly perturbed copies of training images must
/// be flagged, unseen test images (not used for calibration) must be flagged at about alpha.
/// </summary>
[Collection(FashionMnistCollection.Name)]
public class PlantedCopiesAuditTests(FashionMnistFixture fashion)
{
    private static readonly ReidentificationEncoderConfig FastEncoder = new() { Steps = 600, BatchSize = 128 };

    [Fact]
    public void FlagsPlantedCopiesAndAboutAlphaOfUnseenImages()
    {
        using var files = new TestFiles();
        var training = fashion.Train.Subset(Enumerable.Range(0, 6000).ToArray(), "fashion-mnist/train-6k");
        var heldOut = fashion.Test.Subset(Enumerable.Range(0, 4000).ToArray(), "fashion-mnist/test-4k");
        var settings = new AuditSettings { Alpha = 0.01 };
        using var reference = AuditPreparation.Prepare(training, heldOut, FastEncoder, settings, files.PathOf("cache"));

        var random = new Random(5);
        var folder = files.PathOf("synthetic");
        var copies = 0;
        foreach (var perturbation in new[] { "exact", "noise", "shift", "brightness", "shift-noise" })
        {
            for (var j = 0; j < 24; j++)
            {
                var source = random.Next(training.Count);
                var pixels = Perturb(training.ImageAt(source).ToArray(), perturbation, random);
                new PngImage(pixels, 1, 28, 28).Write(Path.Combine(folder, $"copy-{perturbation}-{j:D2}.png"));
                copies++;
            }
        }
        // Unseen people: test images outside the 4000 used for calibration and control.
        for (var j = 0; j < 300; j++)
            new PngImage(fashion.Test.ImageAt(5000 + j * 16).ToArray(), 1, 28, 28).Write(Path.Combine(folder, $"unseen-{j:D3}.png"));

        var synthetic = ImageFolder.Load(folder, 1, 28, 28);
        var report = PrivacyAuditor.Audit(reference, synthetic, settings);

        var copyVerdicts = report.Samples.Where(s => s.File.StartsWith("copy-")).ToList();
        var unseenVerdicts = report.Samples.Where(s => s.File.StartsWith("unseen-")).ToList();
        var copyRecall = copyVerdicts.Count(s => s.Flagged) / (double)copies;
        var unseenRate = unseenVerdicts.Count(s => s.Flagged) / (double)unseenVerdicts.Count;
        Assert.True(copyRecall >= 0.95, $"flagged {copyRecall:P1} of planted copies; missed: {string.Join(", ", copyVerdicts.Where(s => !s.Flagged).Select(s => $"{s.File}={s.Score:F3}"))} (threshold {report.Summary.Threshold:F3})");
        // alpha = 1%: 300 unseen images flag ~3; 9 or more would be a 1-in-1000 event if calibration were right.
        Assert.True(unseenRate <= 0.03, $"flagged {unseenRate:P1} of unseen images (threshold {report.Summary.Threshold:F3})");
        Assert.Equal(24, report.Metrics.ExactCopies);
        Assert.Equal(420, report.Summary.Total);
        Assert.InRange(report.Summary.EncoderAuc, 0.9, 1.0);
        // Singling out is measured against an equal-size sample of the training set, which holds about a third of
        // the copies' sources here: the risk is diluted but its interval must still exclude zero.
        var singlingOut = report.Metrics.SinglingOut;
        Assert.True(singlingOut.Lower > 0, $"singling-out risk {singlingOut.Risk:F3} [{singlingOut.Lower:F3}, {singlingOut.Upper:F3}] should show the planted copies");
    }

    private static byte[] Perturb(byte[] pixels, string kind, Random random)
    {
        byte Clamp(double v) => (byte)Math.Clamp(Math.Round(v), 0, 255);
        double Noise() => 6 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        byte[] Shift(byte[] p)
        {
            var (dx, dy) = random.Next(4) switch { 0 => (1, 0), 1 => (-1, 0), 2 => (0, 1), _ => (0, -1) };
            var shifted = new byte[p.Length];
            for (var y = 0; y < 28; y++)
            for (var x = 0; x < 28; x++)
            {
                var (sx, sy) = (x - dx, y - dy);
                shifted[y * 28 + x] = sx is >= 0 and < 28 && sy is >= 0 and < 28 ? p[sy * 28 + sx] : (byte)0;
            }
            return shifted;
        }
        return kind switch
        {
            "exact" => pixels,
            "noise" => pixels.Select(v => Clamp(v + Noise())).ToArray(),
            "shift" => Shift(pixels),
            "brightness" => pixels.Select(v => Clamp(v * 1.1 + 8)).ToArray(),
            _ => Shift(pixels).Select(v => Clamp(v + Noise())).ToArray(),
        };
    }
}
