using System.IO.Compression;
using System.Text;
using OrleansSynth.ML.Imaging;

namespace OrleansSynth.ML.Tests;

/// <summary>A temporary folder per test and writers for the file formats the readers accept.</summary>
public sealed class TestFiles : IDisposable
{
    public TestFiles() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "orleanssynth-tests", Guid.NewGuid().ToString("N"));

    public string PathOf(string name) => Path.Combine(Root, name);

    public string Write(string name, byte[] content)
    {
        var path = PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public string WriteText(string name, string content) => Write(name, Encoding.UTF8.GetBytes(content));

    public string WritePng(string name, byte[] pixels, int channels, int height, int width)
    {
        var path = PathOf(name);
        new PngImage(pixels, channels, height, width).Write(path);
        return path;
    }

    /// <summary>An IDX file: big-endian magic and dimensions, then the bytes.</summary>
    public static byte[] Idx(int magic, int[] dimensions, byte[] data)
    {
        var bytes = new List<byte>();
        void BigEndian(int v) => bytes.AddRange([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        BigEndian(magic);
        foreach (var d in dimensions)
            BigEndian(d);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    /// <summary>A .npy v1 array.</summary>
    public static byte[] Npy(string descr, int[] shape, byte[] data)
    {
        var shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(data);
        return stream.ToArray();
    }

    public string WriteNpz(string name, IReadOnlyDictionary<string, byte[]> arrays)
    {
        var path = PathOf(name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (key, npy) in arrays)
        {
            using var entry = zip.CreateEntry(key + ".npy").Open();
            entry.Write(npy);
        }
        return path;
    }

    /// <summary>A 16-bit greyscale PNG (written here: SkiaSharp writes 8 bits only).</summary>
    public string WritePng16(string name, ushort[] samples, int height, int width)
    {
        var row = 1 + width * 2;
        var raw = new byte[row * height];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(
                raw.AsSpan(y * row + 1 + x * 2),
                samples[y * width + x]
            );
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest))
            zlib.Write(raw);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 16; // bit depth; colour type 0 (grey)
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a]);
        foreach (
            var (type, data) in new[] { ("IHDR", ihdr), ("IDAT", compressed.ToArray()), ("IEND", Array.Empty<byte>()) }
        )
        {
            var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            var number = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
            png.Write(number);
            png.Write(typed);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(number, Crc32(typed));
            png.Write(number);
        }
        return Write(name, png.ToArray());
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xffffffffu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException) { }
    }
}
