using OrleansSynth.ML.Data;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// DICOM folders written by dcmtk from Fashion-MNIST images, 12 bits deep, MONOCHROME1 and 2, with and without a
/// rescale, several images per patient: what GDCM reads back, how it is split, and what is refused.
/// </summary>
[Collection(FashionMnistCollection.Name)]
public class DicomDatasetTests(FashionMnistFixture fashion)
{
    private static readonly string[] TagValues =
        ["Doe^Jane", "19450317", "St Elsewhere General", "ACC-778899", "1.2.826.0.1.3680043.10.543"];

    [Fact]
    public void ADicomFolderLoadsTheWindowedPixelsOfEachFileWithLabelsAndPatientsFromItsTags()
    {
        using var files = new TestFiles();
        var folder = WriteFashionDicoms(files, fashion.Train, count: 24, perPatient: 3);

        var all = DicomDataset.Load(folder);

        Assert.Equal(24, all.Count);
        Assert.Equal((1, 28, 28), (all.Channels, all.Height, all.Width));
        var byFile = Enumerable.Range(0, all.Count).ToDictionary(i => all.RecordIds[i].Split('#')[0]);
        for (var i = 0; i < 24; i++)
        {
            var index = byFile[$"img-{i:D2}.dcm"];
            // The file's window maps the 12-bit values (rescaled or not, inverted or not) back to the original bytes.
            Assert.True(fashion.Train.ImageAt(i).SequenceEqual(all.ImageAt(index)), $"image {i} differs");
            Assert.Equal(fashion.Train.Labels[i], all.Labels[index]);
            Assert.Equal($"PAT-{i / 3}", all.PatientIds![index]);
        }
        // Nothing of the tags but the patient id reaches the records.
        foreach (var id in all.RecordIds) Assert.DoesNotContain(TagValues, v => id.Contains(v, StringComparison.Ordinal));

        var (train, test) = (DatasetCatalog.Load(folder, DatasetSplit.Train), DatasetCatalog.Load(folder, DatasetSplit.Test));
        Assert.Equal(24, train.Count + test.Count);
        Assert.True(test.Count > 0);
        Assert.Empty(train.PatientIds!.Intersect(test.PatientIds!));
    }

    [Fact]
    public void WithoutAWindowOfItsOwnAnImageIsStretchedBetweenItsPercentilesAndResizedFromItsCentredSquare()
    {
        using var files = new TestFiles();
        var folder = files.PathOf("ct");
        var (rows, columns) = (48, 64);
        var pixels = Enumerable.Range(0, rows * columns).Select(i => (ushort)(1000 + i % columns * 10)).ToArray();
        DicomFiles.Write(Path.Combine(folder, "slice.dcm"), pixels, rows, columns,
            new Dictionary<string, (string, string?)> { ["0010,0020"] = ("LO", "PAT-1"), ["0018,0015"] = ("CS", "HEAD") });
        File.WriteAllText(Path.Combine(folder, "dataset.yaml"), "labelTag: \"0018,0015\"\nimageSize: 16\n");

        var set = DicomDataset.Load(folder);

        Assert.Equal((16, 16), (set.Height, set.Width));
        var image = set.ImageAt(0).ToArray();
        // Columns 8..55 of a left-to-right ramp: dark on the left, bright on the right, every row alike.
        Assert.True(image[0] < 40 && image[15] > 215, $"{image[0]} .. {image[15]}");
        Assert.All(Enumerable.Range(1, 15), row => Assert.Equal(image[..16], image[(row * 16)..(row * 16 + 16)]));
        Assert.Equal(0, set.Labels[0]); // the one class, "HEAD"
    }

    public static TheoryData<string> BadKinds => new(DicomFiles.BadKinds);

    [Theory]
    [MemberData(nameof(BadKinds))]
    public void BadDicomInputIsRefusedNamingTheFile(string kind)
    {
        using var files = new TestFiles();
        var folder = files.PathOf(kind);
        var bad = DicomFiles.WriteBadFolder(folder, kind);

        var error = Assert.Throws<DatasetFormatException>(() => DicomDataset.Load(folder));

        Assert.EndsWith(bad, error.Path);
    }

    /// <summary>
    /// Writes <paramref name="count"/> images of <paramref name="source"/> as 12-bit DICOM files, <paramref
    /// name="perPatient"/> per patient: even ones MONOCHROME2 without rescale and labelled by SOP Instance UID in
    /// labels.csv, odd ones MONOCHROME1 with slope 2 and intercept -1024, labelled by file name. Each file's window maps
    /// its values back to the original bytes exactly. Returns the folder.
    /// </summary>
    public static string WriteFashionDicoms(TestFiles files, ImageDataset source, int count, int perPatient)
    {
        var folder = files.PathOf("dicom");
        var labels = new List<string> { "sop_instance_uid,file_name,label" };
        for (var i = 0; i < count; i++)
        {
            var bytes = source.ImageAt(i).ToArray();
            var monochrome1 = i % 2 == 1;
            var stored = bytes.Select(b => (ushort)(monochrome1 ? 4080 - b * 16 : b * 16)).ToArray();
            var uid = $"{TagValues[4]}.{i}";
            var tags = new Dictionary<string, (string, string?)>
            {
                ["0008,0018"] = ("UI", uid),
                ["0008,0050"] = ("SH", $"{TagValues[3]}{i}"),
                ["0008,0080"] = ("LO", TagValues[2]),
                ["0010,0010"] = ("PN", $"{TagValues[0]}{i / perPatient}"),
                ["0010,0020"] = ("LO", $"PAT-{i / perPatient}"),
                ["0010,0030"] = ("DA", TagValues[1]),
                ["0028,0004"] = ("CS", monochrome1 ? "MONOCHROME1" : "MONOCHROME2"),
                ["0028,1050"] = ("DS", monochrome1 ? "3056" : "2040"),
                ["0028,1051"] = ("DS", monochrome1 ? "8160" : "4080"),
            };
            if (monochrome1)
            {
                tags["0028,1052"] = ("DS", "-1024");
                tags["0028,1053"] = ("DS", "2");
            }
            DicomFiles.Write(Path.Combine(folder, $"img-{i:D2}.dcm"), stored, 28, 28, tags);
            labels.Add(monochrome1 ? $",img-{i:D2}.dcm,{source.Labels[i]}" : $"{uid},,{source.Labels[i]}");
        }
        File.WriteAllLines(Path.Combine(folder, "labels.csv"), labels);
        File.WriteAllText(Path.Combine(folder, "dataset.yaml"), "labels: labels.csv\nimageSize: 28\n");
        return folder;
    }
}
