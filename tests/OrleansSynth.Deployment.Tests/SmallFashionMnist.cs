using System.Buffers.Binary;
using System.IO.Compression;

namespace OrleansSynth.Deployment.Tests;

/// <summary>The first images of Debian's Fashion-MNIST package written as plain IDX files: a real, small dataset folder.</summary>
internal static class SmallFashionMnist
{
    private const string Package = "/usr/share/datasets/fashion-mnist";

    public static void Write(string folder, int train, int test)
    {
        Directory.CreateDirectory(folder);
        foreach (var (prefix, count) in new[] { ("train", train), ("t10k", test) })
        {
            Copy($"{prefix}-images-idx3-ubyte", headerInts: 4, recordBytes: 28 * 28, count, folder);
            Copy($"{prefix}-labels-idx1-ubyte", headerInts: 2, recordBytes: 1, count, folder);
        }
    }

    private static void Copy(string name, int headerInts, int recordBytes, int count, string folder)
    {
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(Package, name + ".gz")), CompressionMode.Decompress);
        var header = new byte[headerInts * 4];
        gzip.ReadExactly(header);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), count);
        var records = new byte[count * recordBytes];
        gzip.ReadExactly(records);
        File.WriteAllBytes(Path.Combine(folder, name), [.. header, .. records]);
    }
}
