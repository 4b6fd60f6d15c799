using System.IO.Compression;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Imaging;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// Hostile or broken inputs are refused with a message naming the file, before anything large is allocated: each
/// case measures the bytes this thread allocated while failing.
/// </summary>
public class BoundedInputTests
{
    private const long AllocationBound = 64L * 1024 * 1024;

    private static DatasetFormatException RefusedWithin<T>(Func<T> load, string file)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DatasetFormatException>(() => load());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(
            allocated < AllocationBound,
            $"allocated {allocated / 1048576.0:F0} MiB while refusing: {error.Message}"
        );
        Assert.Contains(file, error.Message);
        return error;
    }

    [Theory]
    [InlineData(new[] { 2_000_000_000, 1_000_000, 28 })]
    [InlineData(new[] { -5, 28, 28 })]
    public void AnNpyHeaderDeclaringAHugeOrNegativeShapeIsRefused(int[] shape)
    {
        using var files = new TestFiles();
        var path = files.WriteNpz(
            "forged.npz",
            new Dictionary<string, byte[]>
            {
                ["train_images"] = HostileFiles.NpyClaiming("|u1", $"({string.Join(", ", shape)})", new byte[100]),
                ["train_labels"] = TestFiles.Npy("|u1", [1], [0]),
            }
        );
        var error = RefusedWithin(() => NpzDataset.Load(path, DatasetSplit.Train), "forged.npz");
        Assert.Contains("shape", error.Message);
    }

    [Fact]
    public void AGzipThatInflatesBeyondItsDeclaredIdxSizeIsRefused()
    {
        using var files = new TestFiles();
        // The header declares 2 images of 2x2 (8 bytes); the stream inflates to 200 MB of zeros.
        var path = files.PathOf("bomb/train-images-idx3-ubyte.gz");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var gzip = new GZipStream(File.Create(path), CompressionLevel.SmallestSize))
        {
            gzip.Write(TestFiles.Idx(0x803, [2, 2, 2], new byte[8]));
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 200; i++)
                gzip.Write(zeros);
        }
        Assert.True(new FileInfo(path).Length < 1_000_000);
        var error = RefusedWithin(() => IdxReader.ReadImages(path), "train-images-idx3-ubyte.gz");
        Assert.Contains("more data than its header declares", error.Message);
    }

    [Fact]
    public void IdxLabelsBeyondTheClassCountAreRefused()
    {
        using var files = new TestFiles();
        files.Write("idx/train-images-idx3-ubyte", TestFiles.Idx(0x803, [2, 2, 2], new byte[8]));
        files.Write("idx/train-labels-idx1-ubyte", TestFiles.Idx(0x801, [2], [3, 12]));
        var error = RefusedWithin(
            () => IdxDataset.Load(files.PathOf("idx"), DatasetSplit.Train),
            "train-labels-idx1-ubyte"
        );
        Assert.Contains("label 12", error.Message);
    }

    [Fact]
    public void APngDeclaringAHugeImageIsRefusedBeforeDecoding()
    {
        using var files = new TestFiles();
        files.Write("images/huge.png", HostileFiles.PngClaiming(60000));
        files.WriteText("images/manifest.csv", "path,label\nhuge.png,0\n");
        var error = RefusedWithin(() => ImageFolderDataset.Load(files.PathOf("images/manifest.csv")), "huge.png");
        Assert.Contains("60000x60000", error.Message);
    }

    [Theory]
    [InlineData("99999999999")]
    [InlineData("10000")]
    public void AnAbsurdManifestLabelIsRefused(string label)
    {
        using var files = new TestFiles();
        files.WritePng("m/a.png", new byte[4], 1, 2, 2);
        files.WriteText("m/manifest.csv", $"path,label\na.png,{label}\n");
        var error = RefusedWithin(() => ImageFolderDataset.Load(files.PathOf("m/manifest.csv")), "manifest.csv");
        Assert.Contains("line 2", error.Message);
    }

    [Theory]
    [InlineData("../outside.png")]
    [InlineData("/etc/passwd")]
    public void ManifestPathsOutsideTheManifestFolderAreRefusedUnlessAllowed(string path)
    {
        using var files = new TestFiles();
        files.WritePng("outside.png", new byte[4], 1, 2, 2);
        files.WritePng("m/a.png", new byte[4], 1, 2, 2);
        files.WriteText("m/manifest.csv", $"path,label\na.png,0\n{path},1\n");
        var error = RefusedWithin(() => ImageFolderDataset.Load(files.PathOf("m/manifest.csv")), "manifest.csv");
        Assert.Contains("outside the manifest's folder", error.Message);
        if (path.StartsWith(".."))
            Assert.Equal(2, ImageFolderDataset.Load(files.PathOf("m/manifest.csv"), allowPathsOutside: true).Count);
    }

    [Fact]
    public void AManifestWithPatientIdsOnSomeRowsOnlyIsRefusedNamingTheFirstRowWithout()
    {
        using var files = new TestFiles();
        foreach (var name in new[] { "a", "b", "c" })
            files.WritePng($"m/{name}.png", new byte[4], 1, 2, 2);
        files.WriteText("m/manifest.csv", "path,label,patient_id\na.png,0,p1\nb.png,1,\nc.png,1,p2\n");
        var error = RefusedWithin(() => ImageFolderDataset.Load(files.PathOf("m/manifest.csv")), "manifest.csv");
        Assert.Contains("line 3", error.Message);
        Assert.Contains("b.png", error.Message);
    }

    [Fact]
    public void ManifestRecordIdsAndTheContentHashFollowThePixelsNotThePath()
    {
        using var files = new TestFiles();
        files.WritePng("m/a.png", [0, 0, 0, 0], 1, 2, 2);
        files.WritePng("m/b.png", [9, 9, 9, 9], 1, 2, 2);
        files.WriteText("m/manifest.csv", "path,label\na.png,0\nb.png,1\n");
        var before = ImageFolderDataset.Load(files.PathOf("m/manifest.csv"));
        files.WritePng("m/b.png", [9, 9, 9, 10], 1, 2, 2);
        var after = ImageFolderDataset.Load(files.PathOf("m/manifest.csv"));
        Assert.Equal(before.RecordIds[0], after.RecordIds[0]);
        Assert.NotEqual(before.RecordIds[1], after.RecordIds[1]);
        Assert.StartsWith("b.png#", after.RecordIds[1]);
        Assert.NotEqual(DatasetContentHash.Of(before), DatasetContentHash.Of(after));
    }
}
