using System.Buffers.Binary;
using OrleansSynth.ML.Data;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// Images deeper than 8 bits outside DICOM: 16-bit PNGs in a manifest and uint16, int16 or float arrays in an npz, each
/// image mapped to 8 bits between its own 0.5th and 99.5th percentiles.
/// </summary>
public class DeepImagesTests
{
    [Fact]
    public void A12BitImageInA16BitPngKeepsItsWholeRangeRatherThanItsHighByte()
    {
        using var files = new TestFiles();
        // A 12-bit ramp: SkiaSharp's 8 bits would be its high byte, 0 to 15, nearly black.
        var ramp = Enumerable.Range(0, 16 * 16).Select(i => (ushort)(i * 16)).ToArray();
        files.WritePng16("deep/a.png", ramp, 16, 16);
        files.WritePng16("deep/b.png", ramp.Reverse().ToArray(), 16, 16);
        var manifest = files.WriteText("deep/manifest.csv", "path,label\na.png,0\nb.png,1\n");

        var set = ImageFolderDataset.Load(manifest);

        var a = set.ImageAt(0).ToArray();
        Assert.Equal((1, 16, 16), (set.Channels, set.Height, set.Width));
        Assert.Equal(0, a[0]);
        Assert.Equal(255, a[^1]);
        Assert.True(a.Zip(a.Skip(1)).All(p => p.First <= p.Second), "the ramp must stay a ramp");
        Assert.Equal(a.Reverse(), set.ImageAt(1).ToArray());
    }

    [Theory]
    [InlineData("<u2")]
    [InlineData("<i2")]
    [InlineData("<f4")]
    [InlineData("<f8")]
    public void DeepNpzImagesAreStretchedBetweenTheirPercentilesAndKeepTheirOrder(string dtype)
    {
        using var files = new TestFiles();
        var levels = Enumerable.Range(0, 2 * 8 * 8).Select(i => i % 64 * 50.0 - (dtype == "<i2" ? 1000 : 0)).ToArray();
        var path = files.WriteNpz(
            "deep.npz",
            new Dictionary<string, byte[]>
            {
                ["train_images"] = TestFiles.Npy(dtype, [2, 8, 8], Encode(dtype, levels)),
                ["train_labels"] = TestFiles.Npy("|u1", [2], [0, 1]),
                ["test_images"] = TestFiles.Npy(dtype, [2, 8, 8], Encode(dtype, levels)),
                ["test_labels"] = TestFiles.Npy("|u1", [2], [0, 1]),
            }
        );

        var set = NpzDataset.Load(path, DatasetSplit.Train);

        var image = set.ImageAt(0).ToArray();
        Assert.Equal(0, image[0]);
        Assert.Equal(255, image[^1]);
        Assert.True(image.Zip(image.Skip(1)).All(p => p.First <= p.Second));
    }

    [Fact]
    public void ANonFiniteValueInAFloatImageIsRefused()
    {
        using var files = new TestFiles();
        var levels = Enumerable.Repeat(0.5, 64).Append(double.NaN).Concat(Enumerable.Repeat(0.5, 63)).ToArray();
        var path = files.WriteNpz(
            "nan.npz",
            new Dictionary<string, byte[]>
            {
                ["train_images"] = TestFiles.Npy("<f4", [2, 8, 8], Encode("<f4", levels)),
                ["train_labels"] = TestFiles.Npy("|u1", [2], [0, 1]),
            }
        );

        var error = Assert.Throws<DatasetFormatException>(() => NpzDataset.Load(path, DatasetSplit.Train));

        Assert.Contains("image 1", error.Message);
    }

    private static byte[] Encode(string dtype, double[] values)
    {
        var size = dtype[^1] - '0';
        var bytes = new byte[values.Length * size];
        for (var i = 0; i < values.Length; i++)
        {
            var span = bytes.AsSpan(i * size);
            switch (dtype)
            {
                case "<u2":
                    BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)values[i]);
                    break;
                case "<i2":
                    BinaryPrimitives.WriteInt16LittleEndian(span, (short)values[i]);
                    break;
                case "<f4":
                    BinaryPrimitives.WriteSingleLittleEndian(span, (float)values[i]);
                    break;
                default:
                    BinaryPrimitives.WriteDoubleLittleEndian(span, values[i]);
                    break;
            }
        }
        return bytes;
    }
}
