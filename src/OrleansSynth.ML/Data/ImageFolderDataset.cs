using System.Globalization;
using CsvHelper;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Text;

namespace OrleansSynth.ML.Data;

/// <summary>
/// A folder of images described by a CSV manifest with a header row: <c>path,label[,patient_id][,report]</c>
/// (<c>file_name</c> for <c>path</c> also works: a release's metadata.csv). Reports, like patient ids, are all or
/// nothing, and each at most <see cref="ReportText.MaxTokens"/> tokens of UTF-8 text.
/// Paths are relative to the manifest's folder and must stay inside it unless the caller allows otherwise. A record
/// id is the manifest path with a hash of the image's pixels, so a changed image behind an unchanged path is a
/// different record. Patient ids are all or nothing: a manifest that has them on some rows only is refused, since
/// splits by patient would silently become splits by image.
/// </summary>
public static class ImageFolderDataset
{
    /// <param name="allowPathsOutside">Accept absolute paths and paths that climb out of the manifest's folder.</param>
    /// <param name="reportColumn">The column holding each image's report; by default <c>report</c>, when the
    /// manifest has one.</param>
    public static ImageDataset Load(
        string manifestPath,
        string? name = null,
        bool allowPathsOutside = false,
        string? reportColumn = null
    )
    {
        if (!File.Exists(manifestPath))
            throw new DatasetFormatException(manifestPath, "manifest file not found.");
        if (ReportText.FirstInvalidUtf8Line(manifestPath) is { } badLine)
            throw new DatasetFormatException(manifestPath, $"line {badLine}: not valid UTF-8 text.");
        var root = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var rows = ReadManifest(manifestPath, reportColumn);
        if (rows.Count == 0)
            throw new DatasetFormatException(manifestPath, "manifest has no rows.");

        PngImage? first = null;
        ImagePixels? pixels = null;
        var withPatient = rows.Count(r => !string.IsNullOrEmpty(r.PatientId));
        if (withPatient > 0 && withPatient < rows.Count)
        {
            var missing = rows.First(r => string.IsNullOrEmpty(r.PatientId));
            throw new DatasetFormatException(
                manifestPath,
                $"line {missing.Line}: '{missing.Path}' has no patient id, but {withPatient} of {rows.Count} rows "
                    + $"have one; give every row a patient id (or none), so no patient can land on both sides of a "
                    + $"split."
            );
        }
        var withReport = rows.Count(r => !string.IsNullOrWhiteSpace(r.Report));
        if (withReport > 0 && withReport < rows.Count)
        {
            var missing = rows.First(r => string.IsNullOrWhiteSpace(r.Report));
            throw new DatasetFormatException(
                manifestPath,
                $"line {missing.Line}: '{missing.Path}' has no report, but {withReport} of {rows.Count} rows have "
                    + "one; give every row a report (or none)."
            );
        }
        var ids = new string[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (
                !allowPathsOutside
                && (Path.IsPathRooted(row.Path) || !IsInside(root, Path.GetFullPath(Path.Combine(root, row.Path))))
            )
                throw new DatasetFormatException(
                    manifestPath,
                    $"line {row.Line}: '{row.Path}' is outside the manifest's folder {root}; paths must be relative "
                        + $"and stay inside it (allow them explicitly to override)."
                );
            var imagePath = Path.GetFullPath(Path.Combine(root, row.Path));
            if (!File.Exists(imagePath))
                throw new DatasetFormatException(
                    manifestPath,
                    $"line {row.Line}: image '{row.Path}' does not exist ({imagePath})."
                );
            PngImage image;
            try
            {
                image = PngImage.Read(imagePath);
            }
            catch (InvalidDataException e)
            {
                throw new DatasetFormatException(
                    imagePath,
                    $"listed on line {row.Line} of the manifest, is not a readable image ({e.Message}).",
                    e
                );
            }
            first ??= image;
            if (image.Height != first.Height || image.Width != first.Width || image.Channels != first.Channels)
                throw new DatasetFormatException(
                    imagePath,
                    $"is {image.Width}x{image.Height} with {image.Channels} channel(s) but the dataset's first "
                        + $"image is {first.Width}x{first.Height} with {first.Channels}; all images must match."
                );
            pixels ??= ImagePixels.Allocate(rows.Count, image.Pixels.Length);
            image.Pixels.CopyTo(pixels.Image(i));
            ids[i] = $"{row.Path}#{RecordIds.ContentHash(image.Pixels)}";
        }

        return new ImageDataset(
            name ?? Path.GetFileName(root),
            pixels!,
            first!.Channels,
            first.Height,
            first.Width,
            rows.Select(r => r.Label).ToArray(),
            ids,
            withPatient > 0 ? rows.Select(r => r.PatientId).ToArray() : null
        )
        {
            Reports = withReport > 0 ? rows.Select(r => r.Report).ToArray() : null,
        };
    }

    private static bool IsInside(string root, string path) =>
        path.StartsWith(
            Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar,
            StringComparison.Ordinal
        );

    private sealed record ManifestRow(int Line, string Path, long Label, string? PatientId, string? Report);

    /// <summary>The column reports are read from when none is named.</summary>
    public const string DefaultReportColumn = "report";

    private static List<ManifestRow> ReadManifest(string manifestPath, string? reportColumnName)
    {
        using var csv = CsvReader.FromFile(
            manifestPath,
            new CsvReaderOptions { TrackLineNumbers = true },
            FileOptions.SequentialScan
        );
        csv.ReadHeader();
        var header = csv.Headers.Select(h => h.Trim().ToLowerInvariant()).ToList();
        // 'file_name' is what a release's metadata.csv calls the path (the Hugging Face imagefolder layout), so a
        // released set loads as a dataset as it is; 'file' is what older releases' labels.csv called it.
        var pathColumn = new[] { "path", "file_name", "file" }
            .Select(name => header.IndexOf(name))
            .FirstOrDefault(i => i >= 0, -1);
        var (labelColumn, patientColumn) = (header.IndexOf("label"), header.IndexOf("patient_id"));
        var reportColumn = header.IndexOf((reportColumnName ?? DefaultReportColumn).Trim().ToLowerInvariant());
        if (reportColumnName is not null && reportColumn < 0)
            throw new DatasetFormatException(
                manifestPath,
                $"has no '{reportColumnName}' column for reports; found '{string.Join(",", header)}'."
            );
        if (pathColumn < 0 || labelColumn < 0)
            throw new DatasetFormatException(
                manifestPath,
                $"header must name 'path' and 'label' columns ('file_name' also names the path); found "
                    + $"'{string.Join(",", header)}'."
            );

        var rows = new List<ManifestRow>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (csv.Read())
        {
            var line = (int)csv.LineNumber;
            if (csv.FieldCount <= new[] { pathColumn, labelColumn, patientColumn, reportColumn }.Max())
                throw new DatasetFormatException(
                    manifestPath,
                    $"line {line}: {csv.FieldCount} fields, fewer than the header's {header.Count}."
                );
            var path = csv.GetString(pathColumn).Trim();
            var labelText = csv.GetString(labelColumn).Trim();
            if (path.Length == 0)
                throw new DatasetFormatException(manifestPath, $"line {line}: empty path.");
            if (
                !long.TryParse(labelText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var label)
                || label < 0
                || label >= ImageDataset.MaxClasses
            )
                throw new DatasetFormatException(
                    manifestPath,
                    $"line {line}: label '{labelText}' is not a class number from 0 to {ImageDataset.MaxClasses - 1}."
                );
            if (!seen.Add(path))
                throw new DatasetFormatException(manifestPath, $"line {line}: '{path}' is listed twice.");
            var report = reportColumn >= 0 ? csv.GetString(reportColumn).Trim() : null;
            if (report is not null && ReportText.Check(report) is { } problem)
                throw new DatasetFormatException(manifestPath, $"line {line}: {problem}.");
            rows.Add(
                new ManifestRow(
                    line,
                    path,
                    label,
                    patientColumn >= 0 ? csv.GetString(patientColumn).Trim() : null,
                    report
                )
            );
        }
        return rows;
    }
}
