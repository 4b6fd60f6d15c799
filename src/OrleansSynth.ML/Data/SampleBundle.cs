using OrleansSynth.ML.IO;

namespace OrleansSynth.ML.Data;

/// <summary>
/// Synthetic samples as one file: ids, labels and 8-bit pixels, and for a text model's samples the prompt each was
/// drawn from (a real report: bundles stay inside the cluster, and no release writes a prompt). The unit a sampling
/// shard writes to the artifact store and an audit or a student training run reads back.
/// </summary>
public static class SampleBundle
{
    private const string Magic = "ORLEANSSYNTH-SAMPLES";

    // The same layout with a prompt after each record's label; bundles without prompts keep the first format.
    private const string PromptedMagic = "ORLEANSSYNTH-SAMPLES-PROMPTED";

    public static void Write(string path, ImageDataset samples) => AtomicFile.Write(path, writer =>
        {
            var prompts = samples.Reports;
            writer.Write(prompts is null ? Magic : PromptedMagic);
            writer.Write(samples.Name);
            writer.Write(samples.Count);
            writer.Write(samples.Channels);
            writer.Write(samples.Height);
            writer.Write(samples.Width);
            writer.Write(samples.NumClasses);
            for (var i = 0; i < samples.Count; i++)
            {
                writer.Write(samples.RecordIds[i]);
                writer.Write(samples.Labels[i]);
                if (prompts is not null)
                    writer.Write(prompts[i] ?? "");
            }
            writer.Flush();
            samples.Pixels.WriteTo(writer.BaseStream);
        });

    public static ImageDataset Read(string path)
    {
        if (!File.Exists(path))
            throw new DatasetFormatException(path, "sample bundle not found.");
        using var reader = new BinaryReader(File.OpenRead(path));
        try
        {
            var magic = reader.ReadString();
            if (magic is not (Magic or PromptedMagic))
                throw new DatasetFormatException(path, "not an OrleansSynth sample bundle.");
            var prompts = magic == PromptedMagic ? new string?[0] : null;
            var name = reader.ReadString();
            var (count, channels, height, width, classes) = (
                reader.ReadInt32(),
                reader.ReadInt32(),
                reader.ReadInt32(),
                reader.ReadInt32(),
                reader.ReadInt32()
            );
            var ids = new string[count];
            var labels = new long[count];
            if (prompts is not null)
                prompts = new string?[count];
            for (var i = 0; i < count; i++)
            {
                ids[i] = reader.ReadString();
                labels[i] = reader.ReadInt64();
                if (prompts is not null)
                    prompts[i] = reader.ReadString() is { Length: > 0 } prompt ? prompt : null;
            }
            var pixels = ImagePixels.Read(reader.BaseStream, count, channels * height * width, out _)
                ?? throw new DatasetFormatException(path, "sample bundle is truncated.");
            return new ImageDataset(name, pixels, channels, height, width, labels, ids, numClasses: classes)
            {
                Reports = prompts,
            };
        }
        catch (EndOfStreamException e)
        {
            throw new DatasetFormatException(path, "sample bundle is truncated.", e);
        }
    }

    /// <summary>The samples of <paramref name="paths"/> whose ids are in <paramref name="keep"/>, in bundle order (a
    /// filtered synthetic set).</summary>
    public static ImageDataset ReadKept(string name, IEnumerable<string> paths, IReadOnlyCollection<string> keep) =>
        Concat(name, paths.Select(Read).ToList()).WithRecordIds(keep);

    /// <summary>Concatenates datasets of the same image shape, in order.</summary>
    public static ImageDataset Concat(string name, IReadOnlyList<ImageDataset> parts)
    {
        if (parts.Count == 0)
            throw new ArgumentException("Nothing to concatenate.");
        var first = parts[0];
        if (parts.Any(p => p.Channels != first.Channels || p.Height != first.Height || p.Width != first.Width))
            throw new ArgumentException("Sample bundles have different image shapes.");
        return new ImageDataset(
            name,
            ImagePixels.Concat(parts.Select(p => p.Pixels).ToList()),
            first.Channels,
            first.Height,
            first.Width,
            parts.SelectMany(p => p.Labels).ToArray(),
            parts.SelectMany(p => p.RecordIds).ToArray(),
            numClasses: parts.Max(p => p.NumClasses)
        )
        {
            Reports = parts.All(p => p.Reports is null)
                ? null
                : parts.SelectMany(p => p.Reports ?? new string?[p.Count]).ToArray(),
        };
    }
}
