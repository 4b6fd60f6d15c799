using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansSynth.ML.Data;

/// <summary>One array from a NumPy .npy stream: shape and values widened to long (images must be uint8).</summary>
internal sealed partial class NpyArray
{
    private NpyArray(int[] shape, string dtype, byte[] data)
    {
        Shape = shape;
        DType = dtype;
        Data = data;
    }

    public int[] Shape { get; }
    public string DType { get; }
    public byte[] Data { get; }
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <param name="availableBytes">The bytes the array may hold at most (the archive entry's size): a header that declares more is refused before anything is allocated.</param>
    public static NpyArray Read(Stream stream, string source, long availableBytes)
    {
        using var reader = new BinaryReader(stream);
        var magic = reader.ReadBytes(6);
        if (magic.Length < 6 || magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY")
            throw new DatasetFormatException(source, "not a .npy array (missing \\x93NUMPY magic).");
        var major = reader.ReadByte();
        reader.ReadByte();
        var headerLength = major == 1 ? reader.ReadUInt16() : (long)reader.ReadUInt32();
        if (headerLength > 65536) throw new DatasetFormatException(source, $"the .npy header claims {headerLength} bytes; headers are far smaller.");
        var header = Encoding.Latin1.GetString(reader.ReadBytes((int)headerLength));

        var descr = DescrPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !shape.Success) throw new DatasetFormatException(source, $"unreadable .npy header: {header.Trim()}");
        if (header.Contains("'fortran_order': True")) throw new DatasetFormatException(source, "Fortran-ordered arrays are not supported; save with C order.");
        var dimTexts = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var dims = new int[dimTexts.Length];
        for (var i = 0; i < dims.Length; i++)
            if (!int.TryParse(dimTexts[i], out dims[i]) || dims[i] < 0)
                throw new DatasetFormatException(source, $"the .npy header declares shape ({shape.Groups[1].Value}); every dimension must be a non-negative integer.");
        var dtype = descr.Groups[1].Value;
        var itemSize = ItemSize(dtype, source);
        // Checked against what the file holds before allocating: a forged header must not make us reserve gigabytes.
        var count = 1.0;
        foreach (var d in dims) count *= d;
        if (count * itemSize > availableBytes)
            throw new DatasetFormatException(source, $"the .npy header declares shape ({string.Join(", ", dims)}) of {dtype}, {count * itemSize:G4} bytes, but the array holds at most {availableBytes} bytes.");
        var data = reader.ReadBytes((int)(count * itemSize));
        if (data.Length != count * itemSize)
            throw new DatasetFormatException(source, $"truncated: shape ({string.Join(", ", dims)}) of {dtype} needs {count * itemSize} bytes, found {data.Length}.");
        return new NpyArray(dims, dtype, data);
    }

    public byte[] AsBytes(string source)
    {
        if (DType is not ("|u1" or "<u1" or "u1")) throw new DatasetFormatException(source, $"images must be uint8 (|u1), found {DType}.");
        return Data;
    }

    public long[] AsLongs(string source)
    {
        var size = ItemSize(DType, source);
        var result = new long[Count];
        for (var i = 0; i < result.Length; i++)
        {
            var span = Data.AsSpan(i * size, size);
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
                _ => throw new DatasetFormatException(source, $"labels must be integers, found {DType}."),
            };
        }
        return result;
    }

    private static int ItemSize(string dtype, string source) => dtype[^1] switch
    {
        >= '1' and <= '8' => dtype[^1] - '0',
        _ => throw new DatasetFormatException(source, $"unsupported dtype {dtype}."),
    };

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
