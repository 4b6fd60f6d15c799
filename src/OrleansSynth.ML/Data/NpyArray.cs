using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using OrleansSynth.ML.Imaging;

namespace OrleansSynth.ML.Data;

/// <summary>
/// One array from a NumPy .npy stream: its header is parsed on open and its values are read on request, either as
/// integers widened to long (labels) or as uint8 images in chunks (which may exceed 2 GiB).
/// </summary>
internal sealed partial class NpyArray
{
    private readonly Stream _stream;
    private readonly string _source;

    private NpyArray(Stream stream, string source, int[] shape, string dtype)
    {
        _stream = stream;
        _source = source;
        Shape = shape;
        DType = dtype;
    }

    public int[] Shape { get; }
    public string DType { get; }
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Reads the header; the values follow in <paramref name="stream"/>, which the caller keeps
    /// open.</summary>
    /// <param name="availableBytes">The bytes the array may hold at most (the archive entry's size): a header that
    /// declares more is refused before anything is allocated.</param>
    public static NpyArray Open(Stream stream, string source, long availableBytes)
    {
        using var reader = new BinaryReader(stream, Encoding.Latin1, leaveOpen: true);
        var magic = reader.ReadBytes(6);
        if (magic.Length < 6 || magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY")
            throw new DatasetFormatException(source, "not a .npy array (missing \\x93NUMPY magic).");
        var major = reader.ReadByte();
        reader.ReadByte();
        var headerLength = major == 1 ? reader.ReadUInt16() : (long)reader.ReadUInt32();
        if (headerLength > 65536)
            throw new DatasetFormatException(
                source,
                $"the .npy header claims {headerLength} bytes; headers are far smaller."
            );
        var header = Encoding.Latin1.GetString(reader.ReadBytes((int)headerLength));

        var descr = DescrPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !shape.Success)
            throw new DatasetFormatException(source, $"unreadable .npy header: {header.Trim()}");
        if (header.Contains("'fortran_order': True"))
            throw new DatasetFormatException(source, "Fortran-ordered arrays are not supported; save with C order.");
        var dimTexts = shape
            .Groups[1]
            .Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var dims = new int[dimTexts.Length];
        for (var i = 0; i < dims.Length; i++)
            if (!int.TryParse(dimTexts[i], out dims[i]) || dims[i] < 0)
                throw new DatasetFormatException(
                    source,
                    $"the .npy header declares shape ({shape.Groups[1].Value}); every dimension must be a "
                        + $"non-negative integer."
                );
        var dtype = descr.Groups[1].Value;
        var itemSize = ItemSize(dtype, source);
        // Checked against what the file holds before allocating: a forged header must not make us reserve gigabytes.
        var count = 1.0;
        foreach (var d in dims)
            count *= d;
        if (count * itemSize > availableBytes)
            throw new DatasetFormatException(
                source,
                $"the .npy header declares shape ({string.Join(", ", dims)}) of {dtype}, {count * itemSize:G4} "
                    + $"bytes, but the array holds at most {availableBytes} bytes."
            );
        return new NpyArray(stream, source, dims, dtype);
    }

    /// <summary>
    /// Images of shape (N, H, W) or (N, H, W, C), as channels-first 8-bit pixels: uint8 as it is; uint16, int16,
    /// float32 and float64 each image mapped to 8 bits between its own 0.5th and 99.5th percentiles.
    /// </summary>
    public ImagePixels ReadImages()
    {
        var (count, height, width) = (Shape[0], Shape[1], Shape[2]);
        var channels = Shape.Length == 4 ? Shape[3] : 1;
        var imageBytes = checked(channels * height * width);
        var pixels = DType switch
        {
            "|u1" or "<u1" or "u1" => ImagePixels.Read(_stream, count, imageBytes, out var read)
                ?? throw new DatasetFormatException(
                    _source,
                    $"truncated: shape ({string.Join(", ", Shape)}) needs "
                        + $"{(long)count * imageBytes} bytes, found {read}."
                ),
            "<u2" or "<i2" or "<f4" or "<f8" => ReadDeepImages(count, imageBytes),
            _ => throw new DatasetFormatException(
                _source,
                $"images must be uint8, uint16, int16, float32 or float64 (little endian), found {DType}."
            ),
        };
        if (channels > 1)
        {
            // NumPy stores channels last; the models want them first. Image by image, in place.
            var hwc = new byte[imageBytes];
            var plane = height * width;
            for (var n = 0; n < count; n++)
            {
                var image = pixels.Image(n);
                image.CopyTo(hwc);
                for (var p = 0; p < plane; p++)
                for (var c = 0; c < channels; c++)
                    image[c * plane + p] = hwc[p * channels + c];
            }
        }
        return pixels;
    }

    /// <summary>Image by image, so only one image's values are ever held as doubles.</summary>
    private ImagePixels ReadDeepImages(int count, int values)
    {
        var size = ItemSize(DType, _source);
        var pixels = ImagePixels.Allocate(count, values);
        var buffer = new byte[checked(values * size)];
        var decoded = new double[values];
        for (var n = 0; n < count; n++)
        {
            var read = _stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (read < buffer.Length)
                throw new DatasetFormatException(
                    _source,
                    $"truncated: shape ({string.Join(", ", Shape)}) of {DType} " + $"ends in image {n}."
                );
            for (var i = 0; i < values; i++)
            {
                var span = buffer.AsSpan(i * size, size);
                decoded[i] = DType switch
                {
                    "<u2" => BinaryPrimitives.ReadUInt16LittleEndian(span),
                    "<i2" => BinaryPrimitives.ReadInt16LittleEndian(span),
                    "<f4" => BinaryPrimitives.ReadSingleLittleEndian(span),
                    _ => BinaryPrimitives.ReadDoubleLittleEndian(span),
                };
                if (!double.IsFinite(decoded[i]))
                    throw new DatasetFormatException(_source, $"image {n} holds a value that is not a finite number.");
            }
            IntensityWindow.Percentiles(decoded).Apply(decoded).CopyTo(pixels.Image(n));
        }
        return pixels;
    }

    public long[] ReadLongs()
    {
        var size = ItemSize(DType, _source);
        var data = new byte[checked((int)(Count * size))];
        var read = _stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (read < data.Length)
            throw new DatasetFormatException(
                _source,
                $"truncated: shape ({string.Join(", ", Shape)}) of {DType} needs {data.Length} bytes, found {read}."
            );
        var result = new long[Count];
        for (var i = 0; i < result.Length; i++)
        {
            var span = data.AsSpan(i * size, size);
            result[i] = DType switch
            {
                "|u1" or "<u1" or "u1" => span[0],
                "|i1" or "<i1" => (sbyte)span[0],
                "<i2" => BinaryPrimitives.ReadInt16LittleEndian(span),
                "<u2" => BinaryPrimitives.ReadUInt16LittleEndian(span),
                "<i4" => BinaryPrimitives.ReadInt32LittleEndian(span),
                "<u4" => BinaryPrimitives.ReadUInt32LittleEndian(span),
                "<i8" => BinaryPrimitives.ReadInt64LittleEndian(span),
                "<u8" => checked((long)BinaryPrimitives.ReadUInt64LittleEndian(span)),
                _ => throw new DatasetFormatException(_source, $"labels must be integers, found {DType}."),
            };
        }
        return result;
    }

    private static int ItemSize(string dtype, string source) =>
        dtype[^1] switch
        {
            >= '1' and <= '8' => dtype[^1] - '0',
            _ => throw new DatasetFormatException(source, $"unsupported dtype {dtype}."),
        };

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
