using OrleansSynth.ML.Data;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// DICOM folders written by dcmtk from Fashion-MNIST images, 12 bits deep, MONOCHROME1 and 2, with and without a
/// rescale, several images per patient: what GDCM reads back, how it is split, and what is refused.
/// </summary>
[Collection(FashionMnistCollection.Name)]
public class DicomDatasetTests(FashionMnistFixture fashion)
{
    [Fact]
    public void ADicomFolderLoadsTheWindowedPixelsOfEachFileWithLabelsAndPatientsFromItsTags()
    {
        using var files = new TestFiles();
        var folder = DicomFiles.WriteLabelledFolder(files.PathOf("dicom"), fashion.Train, count: 24, perPatient: 3);

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
        foreach (var id in all.RecordIds)
            Assert.DoesNotContain(DicomFiles.TagValues, v => id.Contains(v, StringComparison.Ordinal));

        var (train, test) = (
            DatasetCatalog.Load(folder, DatasetSplit.Train),
            DatasetCatalog.Load(folder, DatasetSplit.Test)
        );
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
        DicomFiles.Write(
            Path.Combine(folder, "slice.dcm"),
            pixels,
            rows,
            columns,
            new Dictionary<string, (string, string?)>
            {
                ["0010,0020"] = ("LO", "PAT-1"),
                ["0018,0015"] = ("CS", "HEAD"),
            }
        );
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

    /// <summary>A reports.csv keyed like the labels (by SOP Instance UID or file name) gives each file its report; a
    /// file without one, where others have one, is refused by name, and an overlong report by its line.</summary>
    [Fact]
    public void ADicomFolderTakesItsReportsFromACsvKeyedLikeItsLabels()
    {
        var folder = DicomFiles.WriteLabelledFolder(
            Path.Combine(Path.GetTempPath(), $"dicom-reports-{Guid.NewGuid():N}"),
            fashion.Train,
            count: 4,
            perPatient: 2
        );
        try
        {
            var rows = new List<string> { "sop_instance_uid,file_name,report" };
            for (var i = 0; i < 4; i++)
                rows.Add(
                    i % 2 == 0
                        ? $"{DicomFiles.TagValues[4]}.{i},,\"finding {i}, no effusion\""
                        : $",img-{i:D2}.dcm,finding {i}"
                );
            File.WriteAllLines(Path.Combine(folder, DicomDatasetOptions.DefaultReportsFile), rows);
            var data = DicomDataset.Load(folder);
            Assert.Equal(4, data.Count);
            Assert.Equal(
                "finding 0, no effusion|finding 1|finding 2, no effusion|finding 3",
                string.Join('|', data.Reports!)
            );

            File.WriteAllLines(Path.Combine(folder, DicomDatasetOptions.DefaultReportsFile), rows.Take(4));
            var missing = Assert.Throws<DatasetFormatException>(() => DicomDataset.Load(folder));
            Assert.Contains("img-03.dcm", missing.Message);
            Assert.Contains("has no report", missing.Message);

            rows[2] = $",img-01.dcm,{string.Join(' ', Enumerable.Repeat("effusion", 200))}";
            File.WriteAllLines(Path.Combine(folder, DicomDatasetOptions.DefaultReportsFile), rows);
            Assert.Contains("line 3", Assert.Throws<DatasetFormatException>(() => DicomDataset.Load(folder)).Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
