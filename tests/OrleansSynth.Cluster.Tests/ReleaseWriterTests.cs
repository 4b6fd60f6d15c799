using System.Text.Json;
using OrleansSynth.Grains.Pipeline;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Evaluation;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Release;
using OrleansSynth.Reports;

namespace OrleansSynth.Cluster.Tests;

/// <summary>The release folder: file order from a cryptographic source, nothing that names a sample, written whole or
/// not at all.</summary>
public sealed class ReleaseWriterTests : IDisposable
{
    private readonly string _root = Path.Combine(
        Path.GetTempPath(),
        "orleanssynth-release-tests",
        Guid.NewGuid().ToString("N")
    );
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    [Fact]
    public void TwoReleasesOfTheSameSetHaveDifferentOrdersAndNameNoSample()
    {
        // 40 samples whose pixels encode their generation order, with ids as the twin job names them.
        var pixels = Enumerable.Range(0, 40).SelectMany(i => Enumerable.Repeat((byte)(i * 5), 16)).ToArray();
        var ids = Enumerable.Range(0, 40).Select(i => $"run-7/twins/{i:D6}").ToArray();
        var samples = new ImageDataset(
            "twins",
            pixels,
            1,
            4,
            4,
            Enumerable.Range(0, 40).Select(i => (long)(i % 4)).ToArray(),
            ids
        );

        var orders = new List<int[]>();
        foreach (var name in new[] { "first", "second" })
        {
            var folder = Path.Combine(_root, name);
            var files = ReleaseWriter.Write(
                folder,
                samples,
                null,
                new ReleasedSamplerDefaults("ddim", 10, 0, 2),
                new CardDetails(null, null, null, null, null, null),
                hashes => Report(hashes),
                Json
            );
            var order = Directory
                .GetFiles(Path.Combine(folder, "synthetic"), "*.png")
                .Order()
                .Select(f => PngImage.Read(f).Pixels[0] / 5)
                .ToArray();
            Assert.Equal(Enumerable.Range(0, 40), order.Order());
            orders.Add(order);
            // The internal mapping says which file is which sample; nothing in the folder does.
            Assert.Equal(ids.Order(), files.Select(f => f.SampleId).Order());
            foreach (
                var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".png"))
            )
                Assert.DoesNotContain("run-7/twins", File.ReadAllText(file));
            var report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "report.json"))).RootElement;
            // 40 PNGs and metadata.csv; no model
            Assert.Equal(41, report.GetProperty("releasedFiles").EnumerateObject().Count());
            Assert.DoesNotContain(Directory.GetDirectories(_root), d => d.Contains(".partial-"));
        }
        // 40! orders: the same order twice would mean the order is not random.
        Assert.NotEqual(orders[0], orders[1]);
        Assert.NotEqual(Enumerable.Range(0, 40), orders[0]);
    }

    [Fact]
    public void TheModelCardNamesTheVerifierThatAuditedTheRelease()
    {
        var details = new CardDetails(null, null, null, null, null, null);
        var linkRule = Report(new Dictionary<string, string>());
        Assert.Contains("no pair verifier (the encoder's link rule)", ReleaseCards.Model(linkRule, details));
        var verified = linkRule with
        {
            Settings = linkRule.Settings with { Verifier = new ReleasedVerifier(4000, 64, 2, "pair-cnn-v4-batchnorm") },
        };
        Assert.Contains(
            "pair verifier 4000 steps of 64 pairs, its negatives among each record's 2 nearest (network "
                + "pair-cnn-v4-batchnorm)",
            ReleaseCards.Model(verified, details)
        );
    }

    private static PipelineReport Report(IReadOnlyDictionary<string, string> files)
    {
        var empty = Distribution.Of([], 0, 1);
        var summary = new AuditSummary(
            40,
            0,
            0,
            0,
            0.03,
            0.97f,
            0.01,
            0.99,
            100,
            100,
            100,
            "d",
            "s",
            CanaryRecall.From(10, 10, 10)
        );
        var privacy = new PrivacyNumbers(
            summary,
            empty,
            empty,
            new SinglingOutRisk(40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 100, 100),
            new HoldoutDistanceResult(100, 40, 0, Proportion.Wilson(20, 40), 0, -0.1, 0.1, 1),
            0,
            0
        );
        var evaluation = new ClassifierEvaluation(10, 0.5, 0.5);
        return new PipelineReport(
            "run",
            "DiversityAware",
            new ReleasedSettings(40, 10, null, 1e-3, null, 2, "Ddim", 10, 0.01, 10, 10, 10, 1, 0.95, 0.05),
            "hash",
            files,
            [],
            privacy,
            null,
            new UtilityNumbers(evaluation, evaluation, null),
            new FidelityNumbers(0, new ManifoldMetrics(0, 0, 0, 0)),
            null,
            [],
            null,
            0,
            40,
            new ReleaseGateEvidence(true, [], 40, false, 1, null, 0.95, null, 0.05, null)
        );
    }

    public void Dispose()
    {
        // The card test writes no folder.
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }
}
