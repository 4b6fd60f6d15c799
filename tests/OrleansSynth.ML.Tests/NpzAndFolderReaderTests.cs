using OrleansSynth.ML.Data;

namespace OrleansSynth.ML.Tests;

public class NpzAndFolderReaderTests
{
    [Fact]
    public void NpzReadsGreyImagesAndColumnLabelsPerSplit()
    {
        using var files = new TestFiles();
        var images = Enumerable.Range(0, 4 * 6 * 6).Select(i => (byte)(i % 251)).ToArray();
        var labels = new long[] { 0, 2, 1, 2 }
            .SelectMany(BitConverter.GetBytes)
            .ToArray();
        var path = files.WriteNpz(
            "organ.npz",
            new Dictionary<string, byte[]>
            {
                ["train_images"] = TestFiles.Npy("|u1", [4, 6, 6], images),
                ["train_labels"] = TestFiles.Npy("<i8", [4, 1], labels),
                ["test_images"] = TestFiles.Npy("|u1", [1, 6, 6], new byte[36]),
                ["test_labels"] = TestFiles.Npy("<i8", [1, 1], new byte[8]),
            }
        );

        var train = NpzDataset.Load(path, DatasetSplit.Train);
        Assert.Equal(4, train.Count);
        Assert.Equal((1, 6, 6), (train.Channels, train.Height, train.Width));
        Assert.Equal([0L, 2, 1, 2], train.Labels);
        Assert.Equal(3, train.NumClasses);
        Assert.Equal(images[36..72], train.ImageAt(1).ToArray());
        Assert.Single(NpzDataset.Load(path, DatasetSplit.Test).Labels);
    }

    [Fact]
    public void NpzColourImagesAreStoredChannelsFirst()
    {
        using var files = new TestFiles();
        // One 1x2 RGB image: pixel 0 = (1,2,3), pixel 1 = (4,5,6).
        var path = files.WriteNpz(
            "rgb.npz",
            new Dictionary<string, byte[]>
            {
                ["train_images"] = TestFiles.Npy("|u1", [1, 1, 2, 3], [1, 2, 3, 4, 5, 6]),
                ["train_labels"] = TestFiles.Npy("|u1", [1], [0]),
            }
        );
        var train = NpzDataset.Load(path, DatasetSplit.Train);
        Assert.Equal(3, train.Channels);
        Assert.Equal(new byte[] { 1, 4, 2, 5, 3, 6 }, train.ImageAt(0).ToArray());
    }

    [Fact]
    public void NpzWithMissingArrayOrWrongCountsIsReported()
    {
        using var files = new TestFiles();
        var noLabels = files.WriteNpz(
            "nolabels.npz",
            new Dictionary<string, byte[]> { ["train_images"] = TestFiles.Npy("|u1", [1, 2, 2], new byte[4]) }
        );
        Assert.Contains(
            "train_labels",
            Assert.Throws<DatasetFormatException>(() => NpzDataset.Load(noLabels, DatasetSplit.Train)).Message
        );

        var mismatch = files.WriteNpz(
            "mismatch.npz",
            new Dictionary<string, byte[]>
            {
                ["train_images"] = TestFiles.Npy("|u1", [2, 2, 2], new byte[8]),
                ["train_labels"] = TestFiles.Npy("|u1", [3], [0, 1, 1]),
            }
        );
        Assert.Contains(
            "3 labels for 2 images",
            Assert.Throws<DatasetFormatException>(() => NpzDataset.Load(mismatch, DatasetSplit.Train)).Message
        );

        var notZip = files.WriteText("fake.npz", "hello");
        Assert.Contains(
            notZip,
            Assert.Throws<DatasetFormatException>(() => NpzDataset.Load(notZip, DatasetSplit.Train)).Message
        );
    }

    [Fact]
    public void FolderWithManifestReadsImagesLabelsAndPatients()
    {
        using var files = new TestFiles();
        for (var i = 0; i < 6; i++)
            files.WritePng($"img/{i}.png", Enumerable.Repeat((byte)(i * 40), 16).ToArray(), 1, 4, 4);
        var manifest = files.WriteText(
            "manifest.csv",
            "path,label,patient_id\n"
                + string.Join("\n", Enumerable.Range(0, 6).Select(i => $"img/{i}.png,{i % 2},p{i / 2}"))
                + "\n"
        );

        var data = ImageFolderDataset.Load(manifest);
        Assert.Equal(6, data.Count);
        Assert.Equal((1, 4, 4), (data.Channels, data.Height, data.Width));
        Assert.Equal([0L, 1, 0, 1, 0, 1], data.Labels);
        Assert.StartsWith("img/3.png#", data.RecordIds[3]);
        Assert.Equal("p1", data.PatientIds![3]);
        Assert.Equal(120, data.ImageAt(3)[0]);
    }

    [Fact]
    public void AReleasesLabelsFileLoadsAsAManifest()
    {
        using var files = new TestFiles();
        for (var i = 0; i < 3; i++)
            files.WritePng($"synthetic/{i:D6}.png", Enumerable.Repeat((byte)(i * 50), 16).ToArray(), 1, 4, 4);
        var labels = files.WriteText("synthetic/labels.csv", "file,label\n000000.png,2\n000001.png,0\n000002.png,1\n");

        var data = ImageFolderDataset.Load(labels);
        Assert.Equal([2L, 0, 1], data.Labels);
        Assert.Equal(100, data.ImageAt(2)[0]);
    }

    [Fact]
    public void ManifestRowPointingNowhereNamesTheManifestLineAndImage()
    {
        using var files = new TestFiles();
        files.WritePng("a.png", new byte[16], 1, 4, 4);
        var manifest = files.WriteText("manifest.csv", "path,label\na.png,0\nmissing.png,1\n");
        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Load(manifest));
        Assert.Contains(manifest, error.Message);
        Assert.Contains("line 3", error.Message);
        Assert.Contains("missing.png", error.Message);
    }

    [Fact]
    public void ImageOfTheWrongSizeOrChannelsIsReported()
    {
        using var files = new TestFiles();
        files.WritePng("a.png", new byte[16], 1, 4, 4);
        var big = files.WritePng("big.png", new byte[25], 1, 5, 5);
        var manifest = files.WriteText("m.csv", "path,label\na.png,0\nbig.png,1\n");
        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Load(manifest));
        Assert.Contains(big, error.Message);
        Assert.Contains("5x5", error.Message);

        var colour = files.WritePng(
            "colour.png",
            Enumerable.Range(0, 48).Select(i => (byte)(i * 5)).ToArray(),
            3,
            4,
            4
        );
        var mixed = files.WriteText("mixed.csv", "path,label\na.png,0\ncolour.png,1\n");
        Assert.Contains(
            "3 channel",
            Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Load(mixed)).Message
        );
    }

    [Fact]
    public void ManifestWithBadHeaderOrLabelIsReported()
    {
        using var files = new TestFiles();
        var noLabel = files.WriteText("h.csv", "file,class\na.png,0\n");
        Assert.Contains(
            "'path' and 'label'",
            Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Load(noLabel)).Message
        );
        files.WritePng("a.png", new byte[16], 1, 4, 4);
        var badLabel = files.WriteText("l.csv", "path,label\na.png,cat\n");
        Assert.Contains(
            "'cat'",
            Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Load(badLabel)).Message
        );
    }

    [Fact]
    public void PatientSplitNeverPutsOnePatientOnBothSides()
    {
        var count = 400;
        var patients = Enumerable.Range(0, count).Select(i => $"patient-{i / 4}").ToArray();
        var data = new ImageDataset(
            "p",
            new byte[count],
            1,
            1,
            1,
            new long[count],
            Enumerable.Range(0, count).Select(i => $"r{i}").ToArray(),
            patients
        );
        var (train, test) = PatientSplitter.Split(data, 0.25, seed: 7, "train", "test");
        Assert.Equal(count, train.Count + test.Count);
        Assert.Empty(train.PatientIds!.Intersect(test.PatientIds!));
        Assert.InRange(test.Count, 60, 140);
        var (train2, _) = PatientSplitter.Split(data, 0.25, seed: 7, "train", "test");
        Assert.Equal(train.RecordIds, train2.RecordIds);
    }
}
