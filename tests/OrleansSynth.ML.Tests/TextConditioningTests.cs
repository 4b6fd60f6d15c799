using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Text;
using OrleansSynth.ML.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>A diffusion model prompted with text: reports in, cross-attention and guidance on the prompt.</summary>
[Collection(FashionMnistCollection.Name)]
public class TextConditioningTests(FashionMnistFixture fashion, ITestOutputHelper output)
{
    private static readonly TextEncoderConfig SmallText = new()
    {
        Dim = 32,
        Heads = 2,
        Layers = 1,
        MaxTokens = 16,
    };

    [Fact]
    public void APromptBecomesTheStartTokenItsIdsAndPadding()
    {
        var tokenizer = new ReportTokenizer(SmallText);
        var row = tokenizer.Row("Small  LEFT\tEffusion");
        var ids = ReportTokenizer.Encode("small left effusion");
        Assert.Equal(SmallText.StartToken, row[0]);
        Assert.Equal(ids.Select(i => (long)i), row.Skip(1).Take(ids.Count));
        Assert.All(row.Skip(1 + ids.Count), t => Assert.Equal(SmallText.PadToken, t));
        Assert.Equal(SmallText.NullPromptRow(), tokenizer.Row(null));
        Assert.Equal(SmallText.NullPromptRow(), tokenizer.Row("  "));
        var tooLong = string.Join(' ', Enumerable.Repeat("effusion", 20));
        var refused = Assert.Throws<ArgumentException>(() => tokenizer.Rows(["fine", tooLong]));
        Assert.Contains("Prompt 2 of 2", refused.Message);
        Assert.Contains($"at most {SmallText.MaxTokens - 1}", refused.Message);
    }

    /// <summary>A token known from fewer than ten patients' reports is read as unknown; a patient's reports count once,
    /// and a prompt's unknown words become the unknown token.</summary>
    [Fact]
    public void OnlyTokensOfManyPatientsReportsAreKnownAndTheRestReadAsUnknown()
    {
        var reports = new List<string?>();
        var patients = new List<string?>();
        for (var i = 0; i < 12; i++)
        {
            // "effusion" in twelve patients' reports, "quartermaine" in nine, "zebulon" in ten reports of one patient.
            reports.Add(i < 9 ? "small effusion, quartermaine" : "small effusion");
            patients.Add($"p{i}");
        }
        for (var i = 0; i < 10; i++)
        {
            reports.Add("zebulon");
            patients.Add("p0");
        }
        var known = ReportVocabulary.KnownTokens(reports, patients);
        // The comma is only in the nine reports that name "quartermaine".
        Assert.Equal(ReportTokenizer.Encode("small effusion").Distinct().Order(), known);
        // Without patient ids, ten distinct reports are needed: the ten identical "zebulon" reports are one.
        Assert.DoesNotContain(ReportTokenizer.Encode("zebulon")[0], ReportVocabulary.KnownTokens(reports));

        var config = SmallText with { KnownTokens = known };
        var ids = ReportTokenizer.Encode("small zebulon effusion");
        var row = new ReportTokenizer(config).Row("small zebulon effusion");
        Assert.Equal(
            ids.Select(id => known.Contains(id) ? id : (long)config.UnknownToken).Prepend(config.StartToken),
            row.Take(ids.Count + 1)
        );
        Assert.Contains((long)config.UnknownToken, row);
        Assert.Equal(3, row.Count(t => t != config.UnknownToken && t < config.VocabularySize));
    }

    [Fact]
    public void PromptsReachThePredictionAndNoPromptIsTheNullPrompt()
    {
        var config = TinyModels.Diffusion(steps: 1).Model with { Text = SmallText };
        using var model = new UNet(config);
        model.eval();
        using var noGrad = no_grad();
        using var images = randn(2, 1, 28, 28);
        using var t = tensor(new long[] { 10, 90 });
        using var labels = tensor(new long[] { 3, 7 });
        using var prompts = tensor(new ReportTokenizer(SmallText).Rows(["a bright coat", "a dark coat"])).view(2, -1);
        using var nullPrompts = model.NullPrompts(2, CPU);
        using var none = model.Predict(images, t, labels, null);
        using var asNull = model.Predict(images, t, labels, null, nullPrompts);
        using var prompted = model.Predict(images, t, labels, null, prompts);
        Assert.True(none.sub(asNull).abs().max().item<float>() < 1e-6, "no prompt is not the null prompt");
        Assert.True(none.sub(prompted).abs().max().item<float>() > 1e-4, "the prompt does not reach the prediction");

        using var labelsOnly = new UNet(TinyModels.Diffusion(steps: 1).Model);
        Assert.Throws<ArgumentException>(() => labelsOnly.Predict(images, t, labels, null, prompts));
    }

    [Fact]
    public void ATextModelNeedsReportsAndACheckpointKeepsItsTextEncoder()
    {
        var subset = fashion.BalancedTrainSubset(4);
        var config = TinyModels.Diffusion(steps: 4, checkpointEvery: 2);
        config = config with { Model = config.Model with { Text = SmallText } };
        using (var trainer = new DiffusionTrainer(config))
            Assert.Contains("has none", Assert.Throws<ArgumentException>(() => trainer.Train(subset)).Message);

        var withReports = new ImageDataset(
            subset.Name,
            subset.Pixels,
            subset.Channels,
            subset.Height,
            subset.Width,
            subset.Labels,
            subset.RecordIds
        )
        {
            Reports = subset.Labels.Select(l => $"garment of class {l}").ToArray(),
        };
        var path = Path.Combine(Path.GetTempPath(), $"text-model-{Guid.NewGuid():N}.ckpt");
        try
        {
            using var trainer = new DiffusionTrainer(config);
            trainer.Train(withReports, path);
            var (loaded, header) = DiffusionCheckpoint.LoadForSampling(path);
            using var _ = loaded;
            Assert.Equal(SmallText, header.Config.Model.Text);
            var request = new SamplingRequest([1, 2], Seed: 5, GuidanceScale: 2)
            {
                PromptTokens = new ReportTokenizer(SmallText).Rows(["garment of class 1", "garment of class 2"]),
            };
            var sampler = new DdimSampler(trainer.Diffusion, 5);
            using var fromTrainer = sampler.Sample(trainer.Ema, request);
            using var fromCheckpoint = sampler.Sample(loaded, request);
            Assert.True(fromTrainer.sub(fromCheckpoint).abs().max().item<float>() < 1e-5);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Reports derived from each garment's class and measured brightness (the mean of its pixels above the
    /// background), in three wordings per band. A model that reads them draws garments of the prompted band far more
    /// often than a model of the same size that reads the label alone, and guidance on the prompt draws them more often
    /// still.
    /// </summary>
    [Fact]
    public void PromptedSamplesFollowTheirPromptsAndGuidanceStrengthensThat()
    {
        var data = fashion.BalancedTrainSubset(200);
        var brightness = Enumerable.Range(0, data.Count).Select(i => Brightness(data, i)).ToArray();
        var sorted = brightness.Order().ToArray();
        var (darkBelow, brightAbove) = (sorted[sorted.Length / 3], sorted[2 * sorted.Length / 3]);
        string Band(double b) =>
            b < darkBelow ? "dark"
            : b >= brightAbove ? "bright"
            : "medium";
        var random = new Random(3);
        var reports = Enumerable
            .Range(0, data.Count)
            .Select(i => Report(ClassNames[data.Labels[i]], Band(brightness[i]), random.Next(3)))
            .ToArray();
        var withReports = new ImageDataset(
            data.Name,
            data.Pixels,
            data.Channels,
            data.Height,
            data.Width,
            data.Labels,
            data.RecordIds
        )
        {
            Reports = reports,
        };

        var config = TinyModels.Diffusion(steps: 500);
        using var reader = new DiffusionTrainer(config with { Model = config.Model with { Text = SmallText } });
        reader.Train(withReports);
        using var labelsOnly = new DiffusionTrainer(config);
        labelsOnly.Train(data);

        // Every class, prompted dark and bright in a wording of its own.
        var (labels, bands, prompts) = (new List<long>(), new List<string>(), new List<string>());
        for (var label = 0; label < 10; label++)
        for (var k = 0; k < 24; k++)
        {
            var band = k % 2 == 0 ? "dark" : "bright";
            labels.Add(label);
            bands.Add(band);
            prompts.Add(Report(ClassNames[label], band, k / 2 % 3));
        }
        var tokens = new ReportTokenizer(SmallText).Rows(prompts);
        double Agreement(DiffusionTrainer trainer, double guidance, bool prompted)
        {
            var request = new SamplingRequest([.. labels], Seed: 11, guidance)
            {
                PromptTokens = prompted ? tokens : null,
            };
            using var images = new DdimSampler(trainer.Diffusion, 20).Sample(trainer.Ema, request);
            var samples = new ImageDataset(
                "samples",
                ImageTensors.ToBytes(images),
                1,
                28,
                28,
                [.. labels],
                labels.Select((_, i) => $"sample-{i}").ToArray()
            );
            return Enumerable.Range(0, samples.Count).Count(i => Band(Brightness(samples, i)) == bands[i])
                / (double)samples.Count;
        }

        var plain = Agreement(labelsOnly, 1, prompted: false);
        var read = Agreement(reader, 1, prompted: true);
        var guided = Agreement(reader, 3, prompted: true);
        output.WriteLine(
            $"prompted band drawn: label-only {plain:P1}, text {read:P1}, text with guidance 3 {guided:P1}"
        );
        // 240 samples: a rate's standard error is about 3 points.
        Assert.True(read > plain + 0.08, $"text {read:P1} against label-only {plain:P1}");
        Assert.True(guided > read, $"guidance 3 {guided:P1} against 1 {read:P1}");
    }

    private static readonly string[] ClassNames =
    [
        "t-shirt",
        "trouser",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "ankle boot",
    ];

    private static string Report(string garment, string band, int wording) =>
        wording switch
        {
            0 => $"a {band} {garment}",
            1 => $"{garment}, {band} in tone",
            _ => $"the {garment} looks {band}",
        };

    /// <summary>Mean intensity of the pixels above the background, 0..1.</summary>
    private static double Brightness(ImageDataset data, int index)
    {
        var pixels = data.ImageAt(index);
        var (sum, count) = (0.0, 0);
        foreach (var p in pixels)
            if (p > 25)
                (sum, count) = (sum + p, count + 1);
        return count == 0 ? 0 : sum / count / 255;
    }
}
