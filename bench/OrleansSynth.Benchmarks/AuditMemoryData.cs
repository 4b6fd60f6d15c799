using System.Buffers.Binary;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Imaging;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// The inputs of the silo memory benchmark (bench/scripts/audit-memory.sh): an IDX dataset of any number of training
/// records, made from Fashion-MNIST's 60,000 and their mirrored and shifted variants (distinct images, same
/// statistics), its 10,000 test images as the held-out split, and a folder of synthetic PNGs to audit (flipped test
/// images).
/// </summary>
internal static class AuditMemoryData
{
    public static void Write(int records, int synthetic, string folder)
    {
        var train = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Train);
        var test = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Test);
        var dataset = Path.Combine(folder, "dataset");
        Directory.CreateDirectory(dataset);
        var side = train.Height;
        WriteIdx(
            Path.Combine(dataset, "train-images-idx3-ubyte"),
            Path.Combine(dataset, "train-labels-idx1-ubyte"),
            records,
            side,
            i => Variant(train.ImageAt(i % train.Count), side, i / train.Count),
            i => (byte)train.Labels[i % train.Count]
        );
        WriteIdx(
            Path.Combine(dataset, "t10k-images-idx3-ubyte"),
            Path.Combine(dataset, "t10k-labels-idx1-ubyte"),
            test.Count,
            side,
            i => test.ImageAt(i).ToArray(),
            i => (byte)test.Labels[i]
        );

        var images = Path.Combine(folder, "synthetic");
        Directory.CreateDirectory(images);
        for (var i = 0; i < synthetic; i++)
            new PngImage(Variant(test.ImageAt(i % test.Count), side, 1 + i / test.Count), 1, side, side).Write(
                Path.Combine(images, $"{i:D6}.png")
            );
        Console.WriteLine(
            $"{records} training records, {test.Count} held-out, {synthetic} synthetic images in {folder}"
        );
    }

    /// <summary>Variant 0 is the image; 1 mirrors it; 2 and up also shift it right by (variant - 1) pixels.</summary>
    private static byte[] Variant(ReadOnlySpan<byte> image, int side, int variant)
    {
        var result = new byte[side * side];
        for (var y = 0; y < side; y++)
        for (var x = 0; x < side; x++)
        {
            var source = variant == 0 ? x : side - 1 - x - Math.Max(0, variant - 1);
            result[y * side + x] = source >= 0 && source < side ? image[y * side + source] : (byte)0;
        }
        return result;
    }

    private static void WriteIdx(
        string imagesPath,
        string labelsPath,
        int count,
        int side,
        Func<int, byte[]> image,
        Func<int, byte> label
    )
    {
        using (var images = new BufferedStream(File.Create(imagesPath)))
        {
            images.Write(Header(0x803, count, side, side));
            for (var i = 0; i < count; i++)
                images.Write(image(i));
        }
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
            labels[i] = label(i);
        File.WriteAllBytes(labelsPath, [.. Header(0x801, count), .. labels]);
    }

    private static byte[] Header(int magic, params int[] dimensions)
    {
        var header = new byte[4 + 4 * dimensions.Length];
        BinaryPrimitives.WriteInt32BigEndian(header, magic);
        for (var i = 0; i < dimensions.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dimensions[i]);
        return header;
    }
}
