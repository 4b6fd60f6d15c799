using OrleansSynth.ML.Data;

namespace OrleansSynth.ML.Tests;

[Collection(FashionMnistCollection.Name)]
public class IdxReaderTests(FashionMnistFixture fashion)
{
    [Fact]
    public void FashionMnistHas60000TrainAnd10000TestImagesWithBalancedLabels()
    {
        Assert.Equal(60000, fashion.Train.Count);
        Assert.Equal(10000, fashion.Test.Count);
        Assert.Equal((1, 28, 28), (fashion.Train.Channels, fashion.Train.Height, fashion.Train.Width));
        Assert.All(fashion.Train.LabelCounts(), count => Assert.Equal(6000, count));
        Assert.All(fashion.Test.LabelCounts(), count => Assert.Equal(1000, count));
    }

    [Fact]
    public void TheQuickSliceHoldsTheFirst6000TrainingRecordsAndTheWholeTestSplit()
    {
        var train = DatasetCatalog.Load("fashion-mnist-6k", DatasetSplit.Train);
        Assert.Equal(fashion.Train.RecordIds[..6000], train.RecordIds);
        Assert.Equal(fashion.Test.RecordIds, DatasetCatalog.Load("fashion-mnist-6k", DatasetSplit.Test).RecordIds);
        Assert.True(train.ImageAt(5999).SequenceEqual(fashion.Train.ImageAt(5999)));
    }

    [Fact]
    public void RecordIdsAreUniqueAndStableAcrossLoads()
    {
        Assert.Equal(fashion.Train.Count, fashion.Train.RecordIds.Distinct().Count());
        var again = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Test);
        Assert.Equal(fashion.Test.RecordIds, again.RecordIds);
        Assert.StartsWith("test-000000-", again.RecordIds[0]);
    }

    [Fact]
    public void RawAndGzipFilesReadTheSame()
    {
        using var files = new TestFiles();
        var pixels = Enumerable.Range(0, 3 * 4 * 5).Select(i => (byte)i).ToArray();
        var raw = TestFiles.Idx(0x803, [3, 4, 5], pixels);
        var rawPath = files.Write("raw-images", raw);
        using (
            var gz = new System.IO.Compression.GZipStream(
                File.Create(files.PathOf("gz-images")),
                System.IO.Compression.CompressionLevel.Fastest
            )
        )
            gz.Write(raw);
        Assert.Equal(
            IdxReader.ReadImages(rawPath).Pixels.ToArray(),
            IdxReader.ReadImages(files.PathOf("gz-images")).Pixels.ToArray()
        );
        Assert.Equal(
            (3, 4, 5),
            (
                IdxReader.ReadImages(rawPath).Count,
                IdxReader.ReadImages(rawPath).Rows,
                IdxReader.ReadImages(rawPath).Columns
            )
        );
    }

    [Fact]
    public void TruncatedImagesFileNamesTheFileAndTheShortfall()
    {
        using var files = new TestFiles();
        var path = files.Write("short-images", TestFiles.Idx(0x803, [10, 28, 28], new byte[28 * 28 * 3]));
        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void WrongMagicNumberIsReported()
    {
        using var files = new TestFiles();
        var path = files.Write("labels-as-images", TestFiles.Idx(0x801, [2], [1, 2]));
        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("magic", error.Message);
    }

    [Fact]
    public void MissingFileAndMissingDatasetAreReported()
    {
        using var files = new TestFiles();
        var missing = files.PathOf("nope-idx3-ubyte");
        Assert.Contains(missing, Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(missing)).Message);
        var error = Assert.Throws<DatasetFormatException>(() => IdxDataset.Load(files.Root, DatasetSplit.Train));
        Assert.Contains("train-images-idx3-ubyte", error.Message);
        Assert.Contains(
            "no such dataset",
            Assert.Throws<DatasetFormatException>(() => DatasetCatalog.Resolve("no-such-dataset")).Message
        );
    }

    [Fact]
    public void CorruptGzipIsReportedAsTruncated()
    {
        using var files = new TestFiles();
        var gzip = new MemoryStream();
        using (
            var gz = new System.IO.Compression.GZipStream(
                gzip,
                System.IO.Compression.CompressionLevel.Fastest,
                leaveOpen: true
            )
        )
            gz.Write(TestFiles.Idx(0x803, [100, 28, 28], new byte[100 * 28 * 28]));
        var path = files.Write("cut.gz", gzip.ToArray()[..(int)(gzip.Length / 2)]);
        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, error.Message);
    }
}
