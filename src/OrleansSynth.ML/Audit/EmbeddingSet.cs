using System.Runtime.InteropServices;
using OrleansSynth.ML.IO;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Embeddings of a set of real records with their ids, computed once per encoder and kept as a file
/// (float32 rows after a small header) so every audit and every silo can reuse them.
/// </summary>
public sealed class EmbeddingSet(float[] values, int dimension, string[] recordIds, string encoderFingerprint)
{
    private const string Magic = "ORLEANSSYNTH-EMBEDDINGS";

    public float[] Values { get; } = values.Length == (long)recordIds.Length * dimension
        ? values : throw new ArgumentException($"{values.Length} values for {recordIds.Length} x {dimension} embeddings.");
    public int Dimension { get; } = dimension;
    public string[] RecordIds { get; } = recordIds;
    public string EncoderFingerprint { get; } = encoderFingerprint;
    public int Count => RecordIds.Length;

    /// <summary>A [Count, Dimension] tensor over a copy of the values.</summary>
    public Tensor ToTensor() => tensor(Values, [Count, Dimension]);

    /// <summary>Rows [start, start + count) as a [count, Dimension] tensor on <paramref name="device"/>: a scan tile's slice, not the whole set.</summary>
    public Tensor ToTensor(int start, int count, Device? device = null)
    {
        if (start < 0 || count < 0 || start + count > Count) throw new ArgumentOutOfRangeException(nameof(count), $"rows {start}..{start + count} of {Count}");
        var rows = tensor(Values.AsSpan(start * Dimension, count * Dimension).ToArray(), [count, Dimension]);
        return device is null || device.type == TorchSharp.DeviceType.CPU ? rows : rows.to(device);
    }

    public static EmbeddingSet FromTensor(Tensor embeddings, string[] recordIds, string encoderFingerprint) =>
        new(embeddings.cpu().contiguous().data<float>().ToArray(), (int)embeddings.shape[1], recordIds, encoderFingerprint);

    public void Save(string path) =>
        AtomicFile.Write(path, writer =>
        {
            writer.Write(Magic);
            writer.Write(EncoderFingerprint);
            writer.Write(Count);
            writer.Write(Dimension);
            foreach (var id in RecordIds) writer.Write(id);
            writer.Write(MemoryMarshal.AsBytes(Values.AsSpan()));
        });

    public static EmbeddingSet Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: embeddings not found.", path);
        using var reader = new BinaryReader(File.OpenRead(path));
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException($"{path}: not an OrleansSynth embeddings file.");
            var fingerprint = reader.ReadString();
            var (count, dimension) = (reader.ReadInt32(), reader.ReadInt32());
            var ids = new string[count];
            for (var i = 0; i < count; i++) ids[i] = reader.ReadString();
            var values = new float[(long)count * dimension];
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
            return new EmbeddingSet(values, dimension, ids, fingerprint);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: embeddings file is truncated.", e);
        }
    }
}
