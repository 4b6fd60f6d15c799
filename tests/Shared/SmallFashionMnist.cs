using System.Buffers.Binary;
using System.IO.Compression;

namespace OrleansSynth.Tests.Shared;

/// <summary>
/// A real but small dataset folder: the first images of Debian's Fashion-MNIST package (dataset-fashion-mnist) written
/// as plain IDX files, read straight from the package so any test project can use it.
/// </summary>
public static class SmallFashionMnist
{
    private const string Package = "/usr/share/datasets/fashion-mnist";
    private const int ImageBytes = 28 * 28;

    /// <summary>The first <paramref name="train"/> training and <paramref name="test"/> test images; returns the
    /// folder.</summary>
    public static string Write(string folder, int train, int test)
    {
        Directory.CreateDirectory(folder);
        WriteSplit(folder, "train", Enumerable.Range(0, train).ToArray());
        WriteSplit(folder, "t10k", Enumerable.Range(0, test).ToArray());
        return folder;
    }

    /// <summary>A training split of <paramref name="distinct"/> images each repeated <paramref name="repeats"/> times:
    /// a set a model memorises.</summary>
    public static string WriteRepeated(string folder, int distinct, int repeats, int test)
    {
        Directory.CreateDirectory(folder);
        WriteSplit(folder, "train", Enumerable.Range(0, distinct * repeats).Select(i => i % distinct).ToArray());
        WriteSplit(folder, "t10k", Enumerable.Range(0, test).ToArray());
        return folder;
    }

    /// <summary>The split's records at <paramref name="order"/> (indices into the package's split), images and
    /// labels.</summary>
    private static void WriteSplit(string folder, string prefix, int[] order)
    {
        Copy($"{prefix}-images-idx3-ubyte", headerInts: 4, ImageBytes, order, folder);
        Copy($"{prefix}-labels-idx1-ubyte", headerInts: 2, recordBytes: 1, order, folder);
    }

    private static void Copy(string name, int headerInts, int recordBytes, int[] order, string folder)
    {
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(Package, name + ".gz")), CompressionMode.Decompress);
        var header = new byte[headerInts * 4];
        gzip.ReadExactly(header);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), order.Length);
        var needed = order.Length == 0 ? 0 : order.Max() + 1;
        var source = new byte[needed * recordBytes];
        gzip.ReadExactly(source);
        var records = new byte[order.Length * recordBytes];
        for (var i = 0; i < order.Length; i++)
            source.AsSpan(order[i] * recordBytes, recordBytes).CopyTo(records.AsSpan(i * recordBytes));
        File.WriteAllBytes(Path.Combine(folder, name), [.. header, .. records]);
    }
}
