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
    // Version 2: values before ids (version 1 files, ids first, are not read; cached ones are recomputed).
    private const string Magic = "ORLEANSSYNTH-EMBEDDINGS-2";

    public float[] Values { get; } =
        values.Length == (long)recordIds.Length * dimension
            ? values
            : throw new ArgumentException($"{values.Length} values for {recordIds.Length} x {dimension} embeddings.");
    public int Dimension { get; } = dimension;
    public string[] RecordIds { get; } = recordIds;
    public string EncoderFingerprint { get; } = encoderFingerprint;
    public int Count => RecordIds.Length;

    /// <summary>A [Count, Dimension] tensor over a copy of the values.</summary>
    public Tensor ToTensor() => tensor(Values, [Count, Dimension]);

    /// <summary>Rows [start, start + count) as a [count, Dimension] tensor on <paramref name="device"/>.</summary>
    public Tensor ToTensor(int start, int count, Device? device = null)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"rows {start}..{start + count} of {Count}");
        var rows = tensor(Values.AsSpan(start * Dimension, count * Dimension).ToArray(), [count, Dimension]);
        return device is null || device.type == TorchSharp.DeviceType.CPU ? rows : rows.to(device);
    }

    public static EmbeddingSet FromTensor(Tensor embeddings, string[] recordIds, string encoderFingerprint) =>
        new(
            embeddings.cpu().contiguous().data<float>().ToArray(),
            (int)embeddings.shape[1],
            recordIds,
            encoderFingerprint
        );

    // The values come right after a fixed header, before the ids, so a scan tile can read its rows alone.
    public void Save(string path) => AtomicFile.Write(path, writer =>
        {
            writer.Write(Magic);
            writer.Write(EncoderFingerprint);
            writer.Write(Count);
            writer.Write(Dimension);
            writer.Write(MemoryMarshal.AsBytes(Values.AsSpan()));
            foreach (var id in RecordIds)
                writer.Write(id);
        });

    public static EmbeddingSet Load(string path)
    {
        using var reader = Open(path, out var fingerprint, out var count, out var dimension);
        try
        {
            var values = new float[(long)count * dimension];
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
            var ids = new string[count];
            for (var i = 0; i < count; i++)
                ids[i] = reader.ReadString();
            return new EmbeddingSet(values, dimension, ids, fingerprint);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: embeddings file is truncated.", e);
        }
    }

    /// <summary>
    /// Rows [start, start + count) of the embeddings file at <paramref name="path"/> as a [count, Dimension] tensor on
    /// <paramref name="device"/>, reading only those rows: a scan tile's memory is its tile, whatever the set's size.
    /// </summary>
    public static Tensor ReadRows(string path, int start, int count, Device? device = null)
    {
        using var reader = Open(path, out _, out var total, out var dimension);
        if (start < 0 || count < 0 || start + count > total)
            throw new ArgumentOutOfRangeException(nameof(count), $"rows {start}..{start + count} of {total} in {path}");
        var values = new float[(long)count * dimension];
        try
        {
            reader.BaseStream.Seek((long)start * dimension * sizeof(float), SeekOrigin.Current);
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: embeddings file is truncated.", e);
        }
        var rows = tensor(values, [count, dimension]);
        return device is null || device.type == TorchSharp.DeviceType.CPU ? rows : rows.to(device);
    }

    /// <summary>The file past its header, at the first value.</summary>
    private static BinaryReader Open(string path, out string fingerprint, out int count, out int dimension)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: embeddings not found.", path);
        var reader = new BinaryReader(File.OpenRead(path));
        try
        {
            if (reader.ReadString() != Magic)
                throw new InvalidDataException(
                    $"{path}: not an OrleansSynth embeddings file (or one of an older layout)."
                );
            fingerprint = reader.ReadString();
            (count, dimension) = (reader.ReadInt32(), reader.ReadInt32());
            return reader;
        }
        catch (Exception e)
        {
            reader.Dispose();
            throw e is EndOfStreamException ? new InvalidDataException($"{path}: embeddings file is truncated.", e) : e;
        }
    }
}
