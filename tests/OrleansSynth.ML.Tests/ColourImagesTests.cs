using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// Colour images of another size go through every model the pipeline trains: the diffusion model and its sampler, the
/// utility classifier and the audit (encoder, pair verifier, canaries, scan). Everything else in this suite is grey 28
/// x 28.
/// </summary>
public class ColourImagesTests
{
    private const int Side = 16;

    [Fact]
    public void ColourImagesTrainSampleClassifyAndAudit()
    {
        using var files = new TestFiles();
        var (training, heldOut) = (
            DiscsAndSquares("colour/train", 96, seed: 1),
            DiscsAndSquares("colour/test", 96, seed: 2)
        );
        ModelInputShape.Check("colour", training, heldOut);

        var tiny = TinyModels.Diffusion(steps: 10);
        var config = tiny with { Model = tiny.Model with { ImageChannels = 3, ImageSize = Side, NumClasses = 2 } };
        using var trainer = new DiffusionTrainer(config, CPU);
        trainer.Train(training);
        using var samples = new DdimSampler(trainer.Diffusion, 4).Sample(
            trainer.Ema,
            new SamplingRequest([0, 1, 0, 1, 0, 1], Seed: 3, GuidanceScale: 1.5)
        );
        Assert.Equal([6L, 3, Side, Side], samples.shape);
        var synthetic = new ImageDataset(
            "colour/samples",
            ImageTensors.ToBytes(samples),
            3,
            Side,
            Side,
            [0, 1, 0, 1, 0, 1],
            Enumerable.Range(0, 6).Select(i => $"sample-{i}").ToArray()
        );

        using var classifier = new ClassifierTrainer(
            new ClassifierConfig
            {
                ImageChannels = 3,
                ImageSize = Side,
                NumClasses = 2,
                Steps = 60,
                BatchSize = 32,
            },
            CPU
        );
        classifier.Train(training);
        // Red discs against blue squares: a classifier that read the channels at all tells them apart.
        Assert.True(ClassifierTrainer.Evaluate(classifier.Model, heldOut).Accuracy > 0.9);

        var settings = new AuditSettings
        {
            Alpha = 0.05,
            Canaries = 20,
            Verifier = new PairVerifierConfig { Steps = 20, BatchSize = 16 },
        };
        var encoder = new ReidentificationEncoderConfig
        {
            ImageChannels = 3,
            ImageSize = Side,
            Steps = 20,
            BatchSize = 32,
        };
        using var reference = AuditPreparation.Prepare(
            training,
            heldOut,
            encoder,
            settings,
            files.PathOf("cache"),
            CPU
        );
        var report = PrivacyAuditor.Audit(reference, synthetic, settings);
        Assert.Equal(6, report.Summary.Total);
        Assert.Equal(20, report.Summary.Canaries.Planted);
    }

    /// <summary>Class 0: red discs, class 1: blue squares, of random size and place on a dark, noisy
    /// background.</summary>
    private static ImageDataset DiscsAndSquares(string name, int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 3 * Side * Side];
        var labels = new long[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = i % 2;
            var (cx, cy, r) = (random.Next(5, 11), random.Next(5, 11), random.Next(3, 5));
            for (var y = 0; y < Side; y++)
            for (var x = 0; x < Side; x++)
            {
                var inside =
                    labels[i] == 0
                        ? (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r
                        : Math.Abs(x - cx) < r && Math.Abs(y - cy) < r;
                for (var c = 0; c < 3; c++)
                {
                    var value = inside ? (c == 2 * (int)labels[i] ? 220 : 40) : 20;
                    pixels[((i * 3 + c) * Side + y) * Side + x] = (byte)
                        Math.Clamp(value + random.Next(-10, 11), 0, 255);
                }
            }
        }
        return new ImageDataset(
            name,
            pixels,
            3,
            Side,
            Side,
            labels,
            Enumerable.Range(0, count).Select(i => $"{name}/{i}").ToArray()
        );
    }
}
