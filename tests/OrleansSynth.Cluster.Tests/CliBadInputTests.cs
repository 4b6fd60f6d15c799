using System.IO.Compression;
using OrleansSynth.ML.Tests;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// Hostile or broken input to the real `synth-lab` process (the in-process audit): one line on stderr naming the file,
/// exit code 2, no report,
/// and a peak resident memory (read by GNU time) far below what the input claims to need.
/// </summary>
public sealed class CliBadInputTests : IDisposable
{
    // The CLI loads the .NET runtime and libtorch before it reads anything: about 300 MB is its floor here.
    private const long PeakBoundKb = 700 * 1024;

    private readonly string _root = Path.Combine(
        Path.GetTempPath(),
        "orleanssynth-cli-tests",
        Guid.NewGuid().ToString("N")
    );

    public CliBadInputTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "synthetic"));
        File.WriteAllBytes(
            Path.Combine(_root, "synthetic", "a.png"),
            new ML.Imaging.PngImage(new byte[28 * 28], 1, 28, 28).ToPng()
        );
    }

    [Fact]
    public async Task AForgedNpyShapeIsRefused()
    {
        var npz = Path.Combine(_root, "forged.npz");
        using (var zip = ZipFile.Open(npz, ZipArchiveMode.Create))
        {
            Add(zip, "train_images.npy", HostileFiles.NpyClaiming("|u1", "(2000000000, 1000000, 28)", new byte[64]));
            Add(zip, "train_labels.npy", HostileFiles.NpyClaiming("|u1", "(1,)", [0]));
            Add(zip, "test_images.npy", HostileFiles.NpyClaiming("|u1", "(1, 28, 28)", new byte[784]));
            Add(zip, "test_labels.npy", HostileFiles.NpyClaiming("|u1", "(1,)", [0]));
        }
        await RefusedNaming(npz, "forged.npz");
    }

    [Fact]
    public async Task AGzipBombBehindAnIdxHeaderIsRefused()
    {
        var folder = Path.Combine(_root, "bomb");
        Directory.CreateDirectory(folder);
        using (
            var gzip = new GZipStream(
                File.Create(Path.Combine(folder, "train-images-idx3-ubyte.gz")),
                CompressionLevel.SmallestSize
            )
        )
        {
            gzip.Write([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28]);
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 1024; i++)
                gzip.Write(zeros); // 1 GiB inflated
        }
        File.WriteAllBytes(Path.Combine(folder, "train-labels-idx1-ubyte"), [0, 0, 8, 1, 0, 0, 0, 1, 0]);
        await RefusedNaming(folder, "train-images-idx3-ubyte.gz");
    }

    [Fact]
    public async Task APngDeclaringAHugeImageIsRefused()
    {
        var folder = Path.Combine(_root, "huge");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "huge.png"), HostileFiles.PngClaiming(60000));
        File.WriteAllText(Path.Combine(folder, "manifest.csv"), "path,label\nhuge.png,0\n");
        await RefusedNaming(Path.Combine(folder, "manifest.csv"), "huge.png");
    }

    [Fact]
    public async Task ADatasetOfImagesTheModelsCannotTakeIsRefusedBeforeAnyTraining()
    {
        var npz = Path.Combine(_root, "wide.npz");
        using (var zip = ZipFile.Open(npz, ZipArchiveMode.Create))
        {
            Add(zip, "train_images.npy", HostileFiles.NpyClaiming("|u1", "(4, 28, 40)", new byte[4 * 28 * 40]));
            Add(zip, "train_labels.npy", HostileFiles.NpyClaiming("|u1", "(4,)", [0, 1, 0, 1]));
            Add(zip, "test_images.npy", HostileFiles.NpyClaiming("|u1", "(2, 28, 40)", new byte[2 * 28 * 40]));
            Add(zip, "test_labels.npy", HostileFiles.NpyClaiming("|u1", "(2,)", [0, 1]));
        }
        await RefusedNaming(npz, "wide.npz: images are 1x28x40");
    }

    /// <summary>Bad report text in a manifest ends with exit 2 naming its line: a report beyond 127 tokens, bytes that
    /// are not UTF-8, a row without a report where others have one.</summary>
    [Theory]
    [InlineData("overlong")]
    [InlineData("not-utf8")]
    [InlineData("missing")]
    public async Task BadReportTextIsRefusedNamingItsLine(string kind)
    {
        var folder = Path.Combine(_root, $"reports-{kind}");
        Directory.CreateDirectory(folder);
        for (var i = 0; i < 3; i++)
            new ML.Imaging.PngImage(new byte[16], 1, 4, 4).Write(Path.Combine(folder, $"{i}.png"));
        var second = kind switch
        {
            "overlong" => string.Join(' ', Enumerable.Repeat("effusion", 200)),
            "missing" => "",
            _ => "clear",
        };
        var manifest = System
            .Text.Encoding.UTF8.GetBytes($"path,label,report\n0.png,0,clear\n1.png,1,{second}\n")
            .ToList();
        if (kind == "not-utf8")
            manifest.Insert(manifest.Count - 2, 0xE9); // Latin-1's 'é' in the second row's report
        manifest.AddRange("2.png,0,clear\n"u8.ToArray());
        File.WriteAllBytes(Path.Combine(folder, "manifest.csv"), [.. manifest]);
        await RefusedNaming(Path.Combine(folder, "manifest.csv"), "line 3");
    }

    public static TheoryData<string> BadDicomKinds => new(DicomFiles.BadKinds);

    [Theory]
    [MemberData(nameof(BadDicomKinds))]
    public async Task BadDicomInputIsRefused(string kind)
    {
        var folder = Path.Combine(_root, kind);
        await RefusedNaming(folder, DicomFiles.WriteBadFolder(folder, kind));
    }

    private async Task RefusedNaming(string dataset, string file)
    {
        var report = Path.Combine(_root, "report.json");
        var synth = Path.Combine(AppContext.BaseDirectory, "synth-lab.dll");
        using var process = new ExternalProcess(
            "/usr/bin/time",
            [
                "-f",
                "peak-rss-kb %M",
                "dotnet",
                synth,
                "audit",
                "--dataset",
                dataset,
                "--synthetic",
                Path.Combine(_root, "synthetic"),
                "--out",
                report,
                "--cache",
                Path.Combine(_root, "cache"),
            ]
        );
        var exit = await process.ExitCodeAsync(TimeSpan.FromMinutes(2));
        var output = process.Output;
        Assert.True(exit == 2, $"exit code {exit}; output:\n{output}");
        var errors = output.Split('\n').Where(l => l.StartsWith("error: ")).ToList();
        Assert.Single(errors);
        Assert.Contains(file, errors[0]);
        var peak = long.Parse(output.Split('\n').Single(l => l.StartsWith("peak-rss-kb ")).Split(' ')[1]);
        Assert.True(peak < PeakBoundKb, $"peak resident memory {peak / 1024} MiB; output:\n{output}");
        Assert.False(File.Exists(report));
    }

    private static void Add(ZipArchive zip, string name, byte[] content)
    {
        using var stream = zip.CreateEntry(name).Open();
        stream.Write(content);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
