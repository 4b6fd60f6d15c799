using System.Security.Cryptography;
using System.Text.Json;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Release;
using OrleansSynth.ML.Training;
using OrleansSynth.Reports;

namespace OrleansSynth.Grains.Pipeline;

/// <summary>
/// Writes a release folder: the released synthetic samples (PNGs and metadata.csv, the Hugging Face imagefolder
/// layout), the student model when one is released (safetensors, config.json and a PyTorch sampler in model/, and
/// student.ckpt for the .NET tools), the model and dataset cards, and the shareable report (JSON and HTML, the HTML
/// showing released samples only). The files are named in an order drawn from a cryptographic random source and kept
/// nowhere shareable, so a file's name says nothing about which sample, shard or real record it came from. The folder
/// is built beside the target and moved into place, so a failed write leaves no half-written release.
/// </summary>
public static class ReleaseWriter
{
    public const string SyntheticFolder = "synthetic";
    public const string ModelFile = "student.ckpt";
    public const string ModelFolder = "model";
    public const string MetadataFile = "metadata.csv";

    /// <param name="released">The samples that passed the filter and every gate; their record ids are internal sample
    /// ids.</param>
    /// <param name="modelPath">The student checkpoint to release, or null.</param>
    /// <param name="sampler">The sampler the release was audited with: the released model's defaults.</param>
    /// <param name="details">The data holder's words for the cards.</param>
    /// <param name="report">The shareable report, given the released files and their SHA-256.</param>
    /// <returns>Each released file with the internal sample id behind it: for the internal report only.</returns>
    public static IReadOnlyList<ReleasedFile> Write(
        string folder,
        ImageDataset released,
        string? modelPath,
        ReleasedSamplerDefaults sampler,
        CardDetails details,
        Func<IReadOnlyDictionary<string, string>, PipelineReport> report,
        JsonSerializerOptions json
    )
    {
        var target = Path.GetFullPath(folder);
        var building = $"{target}.partial-{Guid.NewGuid():N}";
        Directory.CreateDirectory(Path.Combine(building, SyntheticFolder));
        try
        {
            var order = Enumerable.Range(0, released.Count).ToArray();
            RandomNumberGenerator.Shuffle(order.AsSpan());
            var files = new List<ReleasedFile>(order.Length);
            var lines = new List<string>(order.Length + 1) { "file_name,label" };
            for (var i = 0; i < order.Length; i++)
            {
                var name = $"{i:D6}.png";
                new PngImage(
                    released.ImageAt(order[i]).ToArray(),
                    released.Channels,
                    released.Height,
                    released.Width
                ).Write(Path.Combine(building, SyntheticFolder, name));
                lines.Add($"{name},{released.Labels[order[i]]}");
                files.Add(new ReleasedFile($"{SyntheticFolder}/{name}", released.RecordIds[order[i]]));
            }
            File.WriteAllLines(Path.Combine(building, SyntheticFolder, MetadataFile), lines);
            // The model a user samples from and nothing of its training: EMA weights, architecture, noise schedule.
            if (modelPath is not null)
            {
                DiffusionCheckpoint.WriteRelease(modelPath, Path.Combine(building, ModelFile));
                var classes = Enumerable
                    .Range(0, released.NumClasses)
                    .Select(c => ReleaseCards.ClassName(details, c))
                    .ToArray();
                ReleasedModel.Write(modelPath, Path.Combine(building, ModelFolder), sampler, classes);
            }

            var hashes = Directory
                .GetFiles(building, "*", SearchOption.AllDirectories)
                .Order(StringComparer.Ordinal)
                .ToDictionary(
                    f => Path.GetRelativePath(building, f).Replace('\\', '/'),
                    f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)))
                );
            var shareable = report(hashes);
            File.WriteAllBytes(
                Path.Combine(building, "report.json"),
                JsonSerializer.SerializeToUtf8Bytes(shareable, json)
            );
            // The grid in release order too: generation order must not show through the page either.
            File.WriteAllText(
                Path.Combine(building, "report.html"),
                HtmlReport.Render(shareable, Grid(released.Subset(order)))
            );
            File.WriteAllText(
                Path.Combine(building, ReleaseCards.DatasetCardFile),
                ReleaseCards.Dataset(
                    shareable,
                    details,
                    released.Channels,
                    released.Height,
                    released.Width,
                    released.LabelCounts()
                )
            );
            if (modelPath is not null)
                File.WriteAllText(
                    Path.Combine(building, ReleaseCards.ModelCardFile),
                    ReleaseCards.Model(
                        shareable,
                        details,
                        readsReports: File.Exists(Path.Combine(building, ModelFolder, ReleasedModel.TokenizerFile))
                    )
                );

            if (Directory.Exists(target))
            {
                var old = $"{target}.old-{Guid.NewGuid():N}";
                Directory.Move(target, old);
                Directory.Delete(old, recursive: true);
            }
            Directory.Move(building, target);
            return files;
        }
        catch
        {
            if (Directory.Exists(building))
                Directory.Delete(building, recursive: true);
            throw;
        }
    }

    /// <summary>Writes only the shareable report of a refused release: numbers and reasons, no sample and no
    /// model.</summary>
    public static void WriteRefusal(string folder, PipelineReport report, JsonSerializerOptions json)
    {
        var target = Path.GetFullPath(folder);
        if (Directory.Exists(target))
            Directory.Delete(target, recursive: true);
        Directory.CreateDirectory(target);
        File.WriteAllBytes(Path.Combine(target, "report.json"), JsonSerializer.SerializeToUtf8Bytes(report, json));
    }

    /// <summary>Up to 10 samples per class, one row per class, in the order given.</summary>
    private static byte[] Grid(ImageDataset samples)
    {
        if (samples.Count == 0)
            return [];
        var rows = Enumerable
            .Range(0, samples.NumClasses)
            .SelectMany(c => Enumerable.Range(0, samples.Count).Where(i => samples.Labels[i] == c).Take(10))
            .ToArray();
        var (images, _) = samples.Batch(rows);
        using (images)
            return ImageTensors.Grid(images, columns: 10, scale: 2).ToPng();
    }
}

/// <summary>A released file and the internal sample behind it.</summary>
public sealed record ReleasedFile(string File, string SampleId);
