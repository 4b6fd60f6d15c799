using OrleansSynth.ML.IO;

namespace OrleansSynth.ML.Data;

/// <summary>
/// Synthetic samples as one file: ids, labels and 8-bit pixels. The unit a sampling shard writes to the
/// artifact store and an audit or a student training run reads back.
/// </summary>
public static class SampleBundle
{
    private const string Magic = "ORLEANSSYNTH-SAMPLES";

    public static void Write(string path, ImageDataset samples) => AtomicFile.Write(path, writer =>
        {
            writer.Write(Magic);
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
            if (reader.ReadString() != Magic)
                throw new DatasetFormatException(path, "not an OrleansSynth sample bundle.");
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
            for (var i = 0; i < count; i++)
            {
                ids[i] = reader.ReadString();
                labels[i] = reader.ReadInt64();
            }
            var pixels = ImagePixels.Read(reader.BaseStream, count, channels * height * width, out _)
                ?? throw new DatasetFormatException(path, "sample bundle is truncated.");
            return new ImageDataset(name, pixels, channels, height, width, labels, ids, numClasses: classes);
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
        );
    }
}
