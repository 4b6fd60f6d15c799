using System.Buffers.Binary;
using System.IO.Compression;

namespace OrleansSynth.ML.Data;

/// <summary>Reads the IDX files of MNIST and Fashion-MNIST, gzip-compressed or raw.</summary>
public static class IdxReader
{
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    /// <summary>Images as bytes [N, rows, cols].</summary>
    public static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(string path)
    {
        var data = ReadAll(path);
        var header = Header(path, data, ImagesMagic, dimensions: 3);
        var (count, rows, cols) = (header[0], header[1], header[2]);
        var expected = 16L + (long)count * rows * cols;
        if (data.Length < expected)
            throw new DatasetFormatException(path, $"truncated: header promises {count} images of {rows}x{cols} ({expected} bytes) but the file has {data.Length} bytes.");
        return (data[16..(int)expected], count, rows, cols);
    }

    public static byte[] ReadLabels(string path)
    {
        var data = ReadAll(path);
        var count = Header(path, data, LabelsMagic, dimensions: 1)[0];
        if (data.Length < 8L + count)
            throw new DatasetFormatException(path, $"truncated: header promises {count} labels but the file has {data.Length - 8} label bytes.");
        return data[8..(8 + count)];
    }

    private static int[] Header(string path, byte[] data, int magic, int dimensions)
    {
        var headerBytes = 4 + 4 * dimensions;
        if (data.Length >= 4 && BinaryPrimitives.ReadInt32BigEndian(data) is var found && found != magic)
            throw new DatasetFormatException(path, $"wrong magic number 0x{found:X8}; expected 0x{magic:X8} ({(magic == ImagesMagic ? "IDX images" : "IDX labels")}).");
        if (data.Length < headerBytes)
            throw new DatasetFormatException(path, $"truncated: {data.Length} bytes is shorter than the {headerBytes}-byte IDX header.");
        var dims = new int[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4 + 4 * i));
            if (dims[i] <= 0) throw new DatasetFormatException(path, $"dimension {i} is {dims[i]}; IDX dimensions must be positive.");
        }
        return dims;
    }

    private static byte[] ReadAll(string path)
    {
        if (!File.Exists(path)) throw new DatasetFormatException(path, "file not found.");
        var raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException(path, $"corrupt or truncated gzip stream ({e.Message}).", e);
        }
    }
}
