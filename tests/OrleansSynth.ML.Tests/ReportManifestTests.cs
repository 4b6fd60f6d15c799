using System.Text;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Text;

namespace OrleansSynth.ML.Tests;

/// <summary>Reports beside images in a CSV manifest: read as UTF-8, bounded, all or nothing, bad rows named.</summary>
public class ReportManifestTests
{
    private static string Manifest(TestFiles files, string reportHeader, params string[] reports)
    {
        var lines = new StringBuilder($"path,label,{reportHeader}\n");
        for (var i = 0; i < reports.Length; i++)
        {
            files.WritePng($"m/{i}.png", Enumerable.Repeat((byte)(i * 40), 16).ToArray(), 1, 4, 4);
            lines.Append($"{i}.png,{i % 2},{reports[i]}\n");
        }
        return files.WriteText("m/manifest.csv", lines.ToString());
    }

    [Fact]
    public void ReportsAreReadFromTheReportColumnOrANamedOne()
    {
        using var files = new TestFiles();
        var manifest = Manifest(files, "report", "\"small left effusion, no pneumothorax\"", "Épanchement pleural");
        var data = ImageFolderDataset.Load(manifest);
        Assert.Equal("small left effusion, no pneumothorax|Épanchement pleural", string.Join('|', data.Reports!));
        Assert.True(data.HasReports);
        // Reports follow their records through subsets (the splits are subsets).
        Assert.Equal("Épanchement pleural", data.Subset([1]).Reports!.Single());

        var named = Manifest(files, "impression", "cardiomegaly", "clear lungs");
        Assert.Equal(
            "cardiomegaly|clear lungs",
            string.Join('|', ImageFolderDataset.Load(named, reportColumn: "Impression").Reports!)
        );
        Assert.Null(ImageFolderDataset.Load(named).Reports);
        Assert.Contains(
            "no 'findings' column",
            Assert
                .Throws<DatasetFormatException>(() => ImageFolderDataset.Load(named, reportColumn: "findings"))
                .Message
        );
    }

    [Fact]
    public void AMissingReportWhereOthersHaveOneIsRefusedNamingTheLine()
    {
        using var files = new TestFiles();
        var manifest = Manifest(files, "report", "cardiomegaly", "", "clear lungs");
        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Load(manifest));
        Assert.Contains("line 3", error.Message);
        Assert.Contains("has no report", error.Message);
    }

    [Fact]
    public void AnOverlongReportIsRefusedNamingTheLine()
    {
        using var files = new TestFiles();
        var overlong = string.Join(' ', Enumerable.Repeat("effusion", ReportText.MaxTokens + 1));
        var manifest = Manifest(files, "report", "cardiomegaly", overlong);
        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Load(manifest));
        Assert.Contains("line 3", error.Message);
        Assert.Contains($"at most {ReportText.MaxTokens}", error.Message);
        var huge = Manifest(files, "report", new string('x', ReportText.MaxCharacters + 1), "fine");
        Assert.Contains("line 2", Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Load(huge)).Message);
    }

    [Fact]
    public void TextThatIsNotUtf8IsRefusedNamingTheLine()
    {
        using var files = new TestFiles();
        var manifest = Manifest(files, "report", "cardiomegaly", "clear", "effusion");
        var bytes = File.ReadAllBytes(manifest).ToList();
        // Latin-1's 'é' (0xE9) alone, as a report saved in the wrong encoding has it, on the third line.
        var third = bytes.IndexOf((byte)'c', bytes.IndexOf((byte)'\n', bytes.IndexOf((byte)'\n') + 1));
        bytes.Insert(third + 1, 0xE9);
        File.WriteAllBytes(manifest, [.. bytes]);
        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Load(manifest));
        Assert.Contains("line 3", error.Message);
        Assert.Contains("UTF-8", error.Message);
    }
}
