using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Diversity;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// The generator's bookkeeping on small real models. The threshold decides the links: above every possible cosine
/// nothing is linked; below every possible cosine everything is, so each round backs off until the floor.
/// </summary>
public sealed class TwinGeneratorTests : IDisposable
{
    private const int FeatureDim = 16;
    private readonly UNet _model;
    private readonly ImageClassifier _classifier;
    private readonly ImageDataset _sources;

    public TwinGeneratorTests()
    {
        manual_seed(5);
        _model = new UNet(TinyModels.Diffusion(steps: 1).Model with { ExtraConditionDim = FeatureDim });
        _model.eval();
        _classifier = new ImageClassifier(new ClassifierConfig { Width = 8, FeatureDim = FeatureDim });
        _classifier.eval();
        var random = new Random(3);
        var pixels = new byte[3 * 28 * 28];
        random.NextBytes(pixels);
        _sources = new ImageDataset("sources", pixels, 1, 28, 28, [1, 4, 7], ["a", "b", "c"], numClasses: 10);
    }

    private TwinBatch Generate(float threshold, TwinSettings settings, long seed = 9)
    {
        using var reid = Reidentification(threshold);
        var generator = new TwinGenerator(
            _model,
            new DdimSampler(new GaussianDiffusion(new DiffusionConfig { Timesteps = 100 }), steps: 3),
            _classifier,
            reid,
            settings
        );
        return generator.Generate(_sources, seed);
    }

    [Fact]
    public void UnlinkedCandidatesGiveOneTwinPerRecordInTheFirstRound()
    {
        var batch = Generate(threshold: 2f, new TwinSettings(Candidates: 2));
        Assert.Equal(new TwinStatistics(3, 3, 0, 6, 0, 0, 0, 3 * 1.4, 1.4), batch.Statistics);
        Assert.Equal([0, 1, 2], batch.SourcePositions);
        Assert.Equal([1L, 4L, 7L], batch.Labels); // a twin keeps its record's label
        Assert.Equal(3 * 28 * 28, batch.Pixels.Length);
        Assert.NotEqual(_sources.Pixels.ToArray(), batch.Pixels);
    }

    [Fact]
    public void KeepingTwoTwinsPerRecordPutsTheExtraRightAfterEachTwin()
    {
        var batch = Generate(threshold: 2f, new TwinSettings(Candidates: 2, TwinsPerRecord: 2));
        Assert.Equal(3, batch.Statistics.Twins);
        Assert.Equal(3, batch.Statistics.Extras);
        Assert.Equal([0, 0, 1, 1, 2, 2], batch.SourcePositions);
    }

    [Fact]
    public void AllLinkedBacksOffToTheFloorAndCountsTheSkips()
    {
        // Rounds at 1.4, 1.1 and 0.8; 0.5 is below the floor.
        var batch = Generate(
            threshold: -2f,
            new TwinSettings(Candidates: 2, Guidance: 1.4, GuidanceStep: 0.3, GuidanceFloor: 0.8)
        );
        Assert.Equal(0, batch.Count);
        var s = batch.Statistics;
        Assert.Equal(
            (3, 0, 3, 3 * 2 * 3, 3 * 2 * 3, 3 * 2),
            (s.Records, s.Twins, s.Skipped, s.CandidatesDrawn, s.RejectedLinked, s.Retries)
        );
    }

    [Fact]
    public void TheSameSeedGivesTheSameTwins()
    {
        var settings = new TwinSettings(Candidates: 2);
        Assert.Equal(Generate(2f, settings).Pixels, Generate(2f, settings).Pixels);
        Assert.NotEqual(Generate(2f, settings).Pixels, Generate(2f, settings, seed: 10).Pixels);
    }

    /// <summary>A model that reads reports draws each record's twins from the record's own report: the prompt reaches
    /// the twins (another report, other twins) and each twin carries its source's report.</summary>
    [Fact]
    public void AModelThatReadsReportsDrawsEachTwinFromItsRecordsReport()
    {
        manual_seed(5);
        var config = TinyModels.Diffusion(steps: 1).Model with
        {
            ExtraConditionDim = FeatureDim,
            Text = new TextEncoderConfig
            {
                Dim = 16,
                Heads = 2,
                Layers = 1,
                MaxTokens = 12,
            },
        };
        using var model = new UNet(config);
        model.eval();
        using var reid = Reidentification(2f);
        var generator = new TwinGenerator(
            model,
            new DdimSampler(new GaussianDiffusion(new DiffusionConfig { Timesteps = 100 }), steps: 3),
            _classifier,
            reid,
            new TwinSettings(Candidates: 2)
        );
        TwinBatch WithReports(params string?[] reports) =>
            generator.Generate(
                new ImageDataset("sources", _sources.Pixels, 1, 28, 28, _sources.Labels, _sources.RecordIds)
                {
                    Reports = reports,
                },
                9
            );

        var batch = WithReports("a dark coat", "a bright shirt", null);
        Assert.Equal("a dark coat|a bright shirt|", string.Join('|', batch.Prompts!));
        var other = WithReports("a bright coat", "a bright shirt", null);
        var imageBytes = 28 * 28;
        Assert.NotEqual(batch.Pixels[..imageBytes], other.Pixels[..imageBytes]);
        Assert.Equal(batch.Pixels[imageBytes..], other.Pixels[imageBytes..]);
    }

    private static ReidentificationModel Reidentification(float threshold)
    {
        var config = new ReidentificationEncoderConfig { Width = 8, EmbeddingDim = 16 };
        manual_seed(6); // the same encoder every time: its similarities rank the candidates
        var encoder = new ReidentificationEncoder(config);
        encoder.eval();
        var calibration = new ThresholdCalibration(
            threshold,
            0.01,
            HeldOutCount: 100,
            ReferenceCount: 100,
            HeldOutFlagged: 0
        );
        return new ReidentificationModel(
            encoder,
            new ReidentificationModel.Metadata(config, "test", 0, double.NaN, 0, calibration, double.NaN)
        );
    }

    public void Dispose()
    {
        _model.Dispose();
        _classifier.Dispose();
    }
}
