using System.Buffers.Binary;
using OrleansSynth.ML.Data;

namespace OrleansSynth.ML.Tests;

/// <summary>Datasets beyond one .NET array (2 GiB): pixels in chunks of whole images, every image where it
/// belongs.</summary>
public class LargeDatasetTests
{
    [Fact]
    public void ImagesKeepTheirBytesAcrossChunkBoundaries()
    {
        // 3 images per chunk: 7 images make chunks of 3, 3 and 1.
        using var stream = new MemoryStream(Enumerable.Range(0, 7 * 4).Select(i => (byte)i).ToArray());
        var pixels = ImagePixels.Read(stream, 7, imageBytes: 4, out var read, chunkBytes: 12)!;
        Assert.Equal(28, read);
        Assert.Equal(3, pixels.Segments().Count());
        for (var i = 0; i < 7; i++)
            Assert.Equal(Enumerable.Range(4 * i, 4).Select(b => (byte)b).ToArray(), pixels.Image(i).ToArray());
        Assert.Equal(Enumerable.Range(0, 28).Select(b => (byte)b).ToArray(), pixels.ToArray());

        var both = ImagePixels.Concat([pixels, ImagePixels.Wrap([100, 101, 102, 103], 4)]);
        Assert.Equal(8, both.Count);
        Assert.Equal(new byte[] { 100, 101, 102, 103 }, both.Image(7).ToArray());
        Assert.Equal(pixels.Image(6).ToArray(), both.Image(6).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => both.Image(8).Length);
    }

    [Fact]
    public void AStreamShorterThanItsImagesIsReportedNotPadded()
    {
        using var stream = new MemoryStream(new byte[10]);
        Assert.Null(ImagePixels.Read(stream, 3, imageBytes: 4, out var read, chunkBytes: 8));
        Assert.Equal(10, read);
    }

    [Fact]
    public void AnIdxDatasetOfMoreThan2GiBLoads()
    {
        // 2.8 million 28x28 images: 2.2 GB of pixels, more than one byte[] can hold. Sparse file: zeros cost no disk.
        const int count = 2_800_000,
            side = 28,
            imageBytes = side * side;
        Assert.True((long)count * imageBytes > int.MaxValue);
        using var files = new TestFiles();
        var folder = files.PathOf("large");
        Directory.CreateDirectory(folder);
        var first = Enumerable.Range(0, imageBytes).Select(i => (byte)(i % 251)).ToArray();
        var last = Enumerable.Range(0, imageBytes).Select(i => (byte)(255 - i % 199)).ToArray();
        using (var images = File.Create(Path.Combine(folder, "train-images-idx3-ubyte")))
        {
            images.Write(Header(0x803, count, side, side));
            images.Write(first);
            images.SetLength(16 + (long)count * imageBytes);
            images.Position = 16 + (long)(count - 1) * imageBytes;
            images.Write(last);
        }
        var labels = new byte[count];
        labels[^1] = 7;
        File.WriteAllBytes(Path.Combine(folder, "train-labels-idx1-ubyte"), [.. Header(0x801, count), .. labels]);

        var data = IdxDataset.Load(folder, DatasetSplit.Train);

        Assert.Equal(count, data.Count);
        Assert.Equal((long)count * imageBytes, data.Pixels.Length);
        Assert.Equal(first, data.ImageAt(0).ToArray());
        Assert.Equal(last, data.ImageAt(count - 1).ToArray());
        Assert.Equal(new byte[imageBytes], data.ImageAt(count / 2).ToArray());
        Assert.Equal(7, data.Labels[^1]);
        Assert.Equal(RecordIds.ForIndexed("train", count - 1, last), data.RecordIds[^1]);
        var (batch, batchLabels) = data.Batch([count - 1, 0]);
        using (batch)
        using (batchLabels)
        {
            var values = batch[0].flatten().data<float>().ToArray();
            Assert.All(Enumerable.Range(0, imageBytes), i => Assert.Equal(last[i] / 127.5 - 1, values[i], 1e-6));
            Assert.Equal([7L, 0L], batchLabels.data<long>().ToArray());
        }
        var subset = data.Subset([count - 1]);
        Assert.Equal(last, subset.ImageAt(0).ToArray());
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
