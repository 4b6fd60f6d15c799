using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Evaluation;
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
    private static readonly TextEncoderConfig SmallText = TinyModels.Text;

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
    /// Reports derived from each garment's class and three measured properties, in three wordings: its brightness
    /// band (terciles of the mean of its pixels above the background), its width and its texture (each against the
    /// median of its class). A model that reads them draws garments with the prompted properties more often than a
    /// model of the same size that reads the label alone, and guidance on the prompt more often still. The report's
    /// measure (<see cref="PromptReader"/>), which knows nothing of the properties, sees the same.
    /// </summary>
    [Fact]
    public void PromptedSamplesFollowTheirPromptsAndGuidanceStrengthensThat()
    {
        var data = fashion.BalancedTrainSubset(200);
        var properties = GarmentProperties.Of(data);
        var random = new Random(3);
        var reports = Enumerable
            .Range(0, data.Count)
            .Select(i => Report(ClassNames[data.Labels[i]], properties.Words(data, i), random.Next(3)))
            .ToArray();
        var withReports = WithReports(data, reports);

        var config = TinyModels.Diffusion(steps: 500);
        using var reader = new DiffusionTrainer(config with { Model = config.Model with { Text = SmallText } });
        reader.Train(withReports);
        using var labelsOnly = new DiffusionTrainer(config);
        labelsOnly.Train(data);

        // Every class, prompted with each of the eight extreme combinations in three wordings.
        var (labels, asked, prompts) = (new List<long>(), new List<string[]>(), new List<string>());
        for (var label = 0; label < 10; label++)
        for (var k = 0; k < 24; k++)
        {
            string[] words =
            [
                k % 2 == 0 ? "dark" : "bright",
                k / 2 % 2 == 0 ? "narrow" : "wide",
                k / 4 % 2 == 0 ? "plain" : "patterned",
            ];
            labels.Add(label);
            asked.Add(words);
            prompts.Add(Report(ClassNames[label], words, k / 8));
        }
        var tokens = new ReportTokenizer(SmallText).Rows(prompts);
        using var promptReader = PromptReader.For(withReports, CPU)!;
        (double[] ByProperty, PromptAgreement Measured) Agreement(DiffusionTrainer trainer, double guidance, bool read)
        {
            var request = new SamplingRequest([.. labels], Seed: 11, guidance) { PromptTokens = read ? tokens : null };
            using var images = new DdimSampler(trainer.Diffusion, 20).Sample(trainer.Ema, request);
            var samples = WithReports(
                new ImageDataset(
                    "samples",
                    ImageTensors.ToBytes(images),
                    1,
                    28,
                    28,
                    [.. labels],
                    labels.Select((_, i) => $"sample-{i}").ToArray()
                ),
                [.. prompts]
            );
            var byProperty = Enumerable
                .Range(0, 3)
                .Select(p =>
                    Enumerable.Range(0, samples.Count).Count(i => properties.Words(samples, i)[p] == asked[i][p])
                    / (double)samples.Count
                )
                .ToArray();
            return (byProperty, promptReader.Score(samples)!);
        }

        var heldOut = fashion.Test.Subset([.. Enumerable.Range(0, 240)]);
        var real = promptReader.Score(
            WithReports(
                heldOut,
                [
                    .. Enumerable
                        .Range(0, 240)
                        .Select(i => Report(ClassNames[heldOut.Labels[i]], properties.Words(heldOut, i), i % 3)),
                ]
            )
        )!;
        output.WriteLine(
            $"held-out real images: prompt words near {real.Own:P1} against same label {real.SameLabel:P1}"
        );
        var plain = Agreement(labelsOnly, 1, read: false);
        var text = Agreement(reader, 1, read: true);
        var guided = Agreement(reader, 3, read: true);
        foreach (
            var (name, (byProperty, measured)) in new[]
            {
                ("label-only", plain),
                ("text", text),
                ("text, guidance 3", guided),
            }
        )
            output.WriteLine(
                $"{name}: brightness {byProperty[0]:P1}, width {byProperty[1]:P1}, texture {byProperty[2]:P1}; "
                    + $"prompt words near {measured.Own:P1} against same label {measured.SameLabel:P1}"
            );
        // 240 samples: a rate's standard error is about 3 points, a mean of three rates' about 2.
        for (var p = 0; p < 3; p++)
            Assert.True(text.ByProperty[p] > plain.ByProperty[p], $"property {p}: text against label-only");
        Assert.True(text.ByProperty.Average() > plain.ByProperty.Average() + 0.06, "text against label-only");
        Assert.True(guided.ByProperty.Average() > text.ByProperty.Average(), "guidance 3 against 1");
        Assert.True(real.Lift > 0.03, "the report's measure does not read held-out real images' reports");
        Assert.True(guided.Measured.Lift > plain.Measured.Lift + 0.02, "the report's measure: text against label-only");
        Assert.Equal(240, text.Measured.Scored);
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

    private static string Report(string garment, string[] words, int wording) =>
        wording switch
        {
            0 => $"a {words[0]}, {words[1]} {garment} with a {words[2]} surface",
            1 => $"{garment}, {words[0]} in tone, {words[1]} in cut, {words[2]}",
            _ => $"the {garment} looks {words[0]} and {words[1]}; its fabric is {words[2]}",
        };

    private static ImageDataset WithReports(ImageDataset data, string?[] reports) =>
        new(data.Name, data.Pixels, data.Channels, data.Height, data.Width, data.Labels, data.RecordIds)
        {
            Reports = reports,
        };

    /// <summary>
    /// A garment's brightness band (terciles of all garments), width and texture (each against its class's median),
    /// as the words a report uses. Pixels above 25 of 255 are the garment.
    /// </summary>
    private sealed class GarmentProperties
    {
        private const byte Background = 25;
        private readonly double _darkBelow;
        private readonly double _brightFrom;
        private readonly Dictionary<long, (double Width, double Texture)> _classMedians;

        private GarmentProperties(ImageDataset data)
        {
            var brightness = Enumerable.Range(0, data.Count).Select(i => Brightness(data, i)).Order().ToArray();
            (_darkBelow, _brightFrom) = (brightness[brightness.Length / 3], brightness[2 * brightness.Length / 3]);
            _classMedians = Enumerable
                .Range(0, data.Count)
                .GroupBy(i => data.Labels[i])
                .ToDictionary(
                    g => g.Key,
                    g => (Median(g.Select(i => Width(data, i))), Median(g.Select(i => Texture(data, i))))
                );
        }

        public static GarmentProperties Of(ImageDataset data) => new(data);

        public string[] Words(ImageDataset data, int index)
        {
            var brightness = Brightness(data, index);
            var (width, texture) = _classMedians[data.Labels[index]];
            return
            [
                brightness < _darkBelow ? "dark"
                : brightness >= _brightFrom ? "bright"
                : "medium",
                Width(data, index) > width ? "wide" : "narrow",
                Texture(data, index) > texture ? "patterned" : "plain",
            ];
        }

        private static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted[sorted.Length / 2];
        }

        /// <summary>Mean intensity of the garment, 0..1.</summary>
        private static double Brightness(ImageDataset data, int index)
        {
            var (sum, count) = (0.0, 0);
            foreach (var p in data.ImageAt(index))
                if (p > Background)
                    (sum, count) = (sum + p, count + 1);
            return count == 0 ? 0 : sum / count / 255;
        }

        /// <summary>The garment's mean extent across its rows, in pixels.</summary>
        private static double Width(ImageDataset data, int index)
        {
            var pixels = data.ImageAt(index);
            var (sum, rows) = (0, 0);
            for (var y = 0; y < data.Height; y++)
            {
                var extent = 0;
                for (var x = 0; x < data.Width; x++)
                    extent += pixels[y * data.Width + x] > Background ? 1 : 0;
                (sum, rows) = extent > 0 ? (sum + extent, rows + 1) : (sum, rows);
            }
            return rows == 0 ? 0 : sum / (double)rows;
        }

        /// <summary>Mean absolute difference of horizontally adjacent garment pixels, 0..1.</summary>
        private static double Texture(ImageDataset data, int index)
        {
            var pixels = data.ImageAt(index);
            var (sum, count) = (0.0, 0);
            for (var y = 0; y < data.Height; y++)
            for (var x = 0; x + 1 < data.Width; x++)
            {
                var (a, b) = (pixels[y * data.Width + x], pixels[y * data.Width + x + 1]);
                if (a > Background && b > Background)
                    (sum, count) = (sum + Math.Abs(a - b), count + 1);
            }
            return count == 0 ? 0 : sum / count / 255;
        }
    }
}
