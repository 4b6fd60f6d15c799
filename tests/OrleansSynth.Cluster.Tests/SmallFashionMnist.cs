using OrleansSynth.ML.Data;

namespace OrleansSynth.Cluster.Tests;

/// <summary>A real but small dataset for cluster tests: the first images of Fashion-MNIST written as IDX files.</summary>
internal static class SmallFashionMnist
{
    public static string Write(string folder, int train, int test)
    {
        Directory.CreateDirectory(folder);
        WriteSplit(folder, "train", DatasetCatalog.Load("fashion-mnist", DatasetSplit.Train), train);
        WriteSplit(folder, "t10k", DatasetCatalog.Load("fashion-mnist", DatasetSplit.Test), test);
        return folder;
    }

    /// <summary>A training split of <paramref name="distinct"/> images each repeated <paramref name="repeats"/> times: a set a model memorises.</summary>
    public static string WriteRepeated(string folder, int distinct, int repeats, int test)
    {
        Directory.CreateDirectory(folder);
        var train = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Train);
        var order = Enumerable.Range(0, distinct * repeats).Select(i => i % distinct).ToArray();
        WriteSplit(folder, "train", train.Subset(order), order.Length);
        WriteSplit(folder, "t10k", DatasetCatalog.Load("fashion-mnist", DatasetSplit.Test), test);
        return folder;
    }

    private static void WriteSplit(string folder, string prefix, ImageDataset data, int count)
    {
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), Idx(0x803, [count, 28, 28], data.Pixels.ToArray()[..(count * 784)]));
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), Idx(0x801, [count], data.Labels[..count].Select(l => (byte)l).ToArray()));
    }

    private static byte[] Idx(int magic, int[] dimensions, byte[] data)
    {
        var header = new[] { magic }.Concat(dimensions).SelectMany(v => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v });
        return header.Concat(data).ToArray();
    }
}
