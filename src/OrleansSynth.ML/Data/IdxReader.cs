using System.Buffers.Binary;
using System.IO.Compression;

namespace OrleansSynth.ML.Data;

/// <summary>Reads the IDX files of MNIST and Fashion-MNIST, gzip-compressed or raw.</summary>
public static class IdxReader
{
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    /// <summary>Images as bytes [N, rows, cols], in chunks: an images file may hold more than 2 GiB.</summary>
    public static (ImagePixels Pixels, int Count, int Rows, int Columns) ReadImages(string path)
    {
        using var stream = Open(path);
        var header = Header(path, stream, ImagesMagic, dimensions: 3);
        var (count, rows, cols) = (header[0], header[1], header[2]);
        var what = $"{count} images of {rows}x{cols}";
        var bytes = (long)count * rows * cols;
        if (rows * (long)cols > int.MaxValue)
            throw new DatasetFormatException(path, $"header declares {what}: one image is larger than 2 GiB.");
        ImagePixels? pixels;
        long read;
        try
        {
            pixels = ImagePixels.Read(stream, count, rows * cols, out read);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException(path, $"corrupt or truncated gzip stream ({e.Message}).", e);
        }
        if (pixels is null)
            throw new DatasetFormatException(
                path,
                $"truncated: header promises {what} ({bytes} bytes) but the file has {read}."
            );
        RefuseMore(path, stream, what, bytes);
        return (pixels, count, rows, cols);
    }

    public static byte[] ReadLabels(string path)
    {
        using var stream = Open(path);
        var count = Header(path, stream, LabelsMagic, dimensions: 1)[0];
        var data = new byte[count];
        var read = ReadFully(path, stream, data);
        if (read < count)
            throw new DatasetFormatException(
                path,
                $"truncated: header promises {count} labels but the file has {read}."
            );
        RefuseMore(path, stream, $"{count} labels", count);
        return data;
    }

    /// <summary>A file (or gzip stream) that holds more than its header declares is refused, so a small file cannot
    /// inflate without bound.</summary>
    private static void RefuseMore(string path, Stream stream, string what, long bytes)
    {
        if (ReadFully(path, stream, new byte[1]) > 0)
            throw new DatasetFormatException(
                path,
                $"holds more data than its header declares ({what}, {bytes} bytes); refusing a file that inflates "
                    + $"beyond its declared size."
            );
    }

    private static int[] Header(string path, Stream stream, int magic, int dimensions)
    {
        var headerBytes = 4 + 4 * dimensions;
        var header = new byte[headerBytes];
        var read = ReadFully(path, stream, header);
        if (read >= 4 && BinaryPrimitives.ReadInt32BigEndian(header) is var found && found != magic)
            throw new DatasetFormatException(
                path,
                $"wrong magic number 0x{found:X8}; expected 0x{magic:X8} "
                    + $"({(magic == ImagesMagic ? "IDX images" : "IDX labels")})."
            );
        if (read < headerBytes)
            throw new DatasetFormatException(
                path,
                $"truncated: {read} bytes is shorter than the {headerBytes}-byte IDX header."
            );
        var dims = new int[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 + 4 * i));
            if (dims[i] <= 0)
                throw new DatasetFormatException(path, $"dimension {i} is {dims[i]}; IDX dimensions must be positive.");
        }
        return dims;
    }

    private static int ReadFully(string path, Stream stream, byte[] buffer)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException(path, $"corrupt or truncated gzip stream ({e.Message}).", e);
        }
    }

    /// <summary>The file, through a gzip decoder when it starts with the gzip magic.</summary>
    private static Stream Open(string path)
    {
        if (!File.Exists(path))
            throw new DatasetFormatException(path, "file not found.");
        var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        var gzip = file.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        return gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
    }
}
