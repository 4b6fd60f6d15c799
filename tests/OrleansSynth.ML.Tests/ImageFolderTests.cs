using OrleansSynth.ML.Data;

namespace OrleansSynth.ML.Tests;

/// <summary>The synthetic-folder reader behind <c>synth audit --synthetic</c>.</summary>
public class ImageFolderTests
{
    [Fact]
    public void ReadsImagesInNameOrderWithFileNamesAsIds()
    {
        using var files = new TestFiles();
        files.WritePng("s/b.png", Enumerable.Repeat((byte)200, 16).ToArray(), 1, 4, 4);
        files.WritePng("s/a.png", Enumerable.Repeat((byte)100, 16).ToArray(), 1, 4, 4);
        files.WriteText("s/labels.csv", "file,label\na.png,0\n");
        var data = ImageFolder.Load(files.PathOf("s"), 1, 4, 4);
        Assert.Equal(["a.png", "b.png"], data.RecordIds);
        Assert.Equal(100, data.ImageAt(0)[0]);
    }

    [Fact]
    public void EmptyFolderIsAnError()
    {
        using var files = new TestFiles();
        Directory.CreateDirectory(files.PathOf("empty"));
        Assert.Contains(
            "no images",
            Assert.Throws<DatasetFormatException>(() => ImageFolder.Load(files.PathOf("empty"), 1, 4, 4)).Message
        );
        Assert.Contains(
            "not found",
            Assert.Throws<DatasetFormatException>(() => ImageFolder.Load(files.PathOf("missing"), 1, 4, 4)).Message
        );
    }

    [Fact]
    public void NonImageFilesAreNamed()
    {
        using var files = new TestFiles();
        files.WritePng("s/a.png", new byte[16], 1, 4, 4);
        var notes = files.WriteText("s/notes.txt", "hello");
        Assert.Contains(
            notes,
            Assert.Throws<DatasetFormatException>(() => ImageFolder.Load(files.PathOf("s"), 1, 4, 4)).Message
        );

        var fake = files.WriteText("t/fake.png", "not really a png");
        Assert.Contains(
            fake,
            Assert.Throws<DatasetFormatException>(() => ImageFolder.Load(files.PathOf("t"), 1, 4, 4)).Message
        );
    }

    [Fact]
    public void WrongSizeOrChannelCountIsNamed()
    {
        using var files = new TestFiles();
        var big = files.WritePng("s/big.png", new byte[25], 1, 5, 5);
        var error = Assert.Throws<DatasetFormatException>(() => ImageFolder.Load(files.PathOf("s"), 1, 4, 4));
        Assert.Contains(big, error.Message);
        Assert.Contains("5x5", error.Message);

        var colour = files.WritePng(
            "c/colour.png",
            Enumerable.Range(0, 48).Select(i => (byte)(i * 5)).ToArray(),
            3,
            4,
            4
        );
        Assert.Contains(
            "3 channel",
            Assert.Throws<DatasetFormatException>(() => ImageFolder.Load(files.PathOf("c"), 1, 4, 4)).Message
        );
    }
}
