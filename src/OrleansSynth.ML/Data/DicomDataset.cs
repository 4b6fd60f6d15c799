using System.Globalization;
using CsvHelper;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Text;
using SkiaSharp;

namespace OrleansSynth.ML.Data;

/// <summary>
/// A folder of single-frame greyscale DICOM files (read with GDCM) as a dataset. Each image is rescaled (slope and
/// intercept), windowed to 8 bits (the file's window, else the image's percentiles; MONOCHROME1 inverted), centre-
/// cropped to a square and resized to <see cref="DicomDatasetOptions.ImageSize"/> with linear filtering over mipmaps.
/// The label comes from a CSV keyed by SOP Instance UID or file name, or from a tag, and a report, if any, from a CSV
/// keyed the same way (<see cref="DicomDatasetOptions.Reports"/>); the patient from PatientID
/// (0010,0020), all files or none. A record id is the file's path in the folder with a hash of its pixels. No tag
/// value other than the patient id and the label is kept.
/// </summary>
public static class DicomDataset
{
    /// <summary>
    /// A folder is taken for DICOM when it has a dataset.yaml, or holds no IDX file and its first files are DICOM. An
    /// IDX folder's files are not opened here: a job reading one split must not depend on the other split's files.
    /// </summary>
    public static bool IsDicomFolder(string folder)
    {
        if (File.Exists(Path.Combine(folder, DicomDatasetOptions.FileName)))
            return true;
        var first = Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal).Take(8).ToList();
        return !first.Any(f => Path.GetFileName(f).Contains("-idx", StringComparison.Ordinal))
            && first.Any(DicomFile.HasDicomPreamble);
    }

    public static ImageDataset Load(string folder, string? name = null)
    {
        var root = Path.GetFullPath(folder);
        var options = DicomDatasetOptions.Load(root);
        var labelsFile = options.Labels is null ? null : Path.GetFullPath(Path.Combine(root, options.Labels));
        var labelTable = labelsFile is null ? null : ReadKeyed(labelsFile, "label");
        var reportsFile = options.Reports is null ? null : Path.GetFullPath(Path.Combine(root, options.Reports));
        var reportTable = reportsFile is null ? null : ReadKeyed(reportsFile, "report");
        var labelTag = options.LabelTag is null ? null : DicomFile.ParseTag(options.LabelTag);
        var files = Directory
            .EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f =>
                f != labelsFile
                && f != reportsFile
                && Path.GetFileName(f) is not (DicomDatasetOptions.FileName or "DICOMDIR")
                && !Path.GetFileName(f).StartsWith('.')
            )
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
            throw new DatasetFormatException(root, "holds no DICOM files.");

        var size = options.ImageSize;
        var pixels = ImagePixels.Allocate(files.Count, size * size);
        var (ids, patients, labelTexts) = (new string[files.Count], new string?[files.Count], new string[files.Count]);
        var reports = reportTable is null ? null : new string?[files.Count];
        for (var i = 0; i < files.Count; i++)
        {
            var relative = Path.GetRelativePath(root, files[i]).Replace('\\', '/');
            DicomFile image;
            try
            {
                image = DicomFile.Read(files[i], labelTag);
            }
            catch (InvalidDataException e)
            {
                throw new DatasetFormatException(files[i], e.Message, e);
            }
            var window =
                options.Window == "file" && image.FileWindow is { } own
                    ? own
                    : IntensityWindow.Percentiles(image.Values, options.Percentiles[0], options.Percentiles[1]);
            Square(window.Apply(image.Values, image.Monochrome1), image.Height, image.Width, size)
                .CopyTo(pixels.Image(i));
            labelTexts[i] = labelTable is not null
                ? Row(labelTable, image, relative)
                    ?? throw new DatasetFormatException(
                        files[i],
                        $"has no row in {Path.GetFileName(labelsFile)} (by SOP Instance UID or file name)."
                    )
                : image.LabelTagValue
                    ?? throw new DatasetFormatException(
                        files[i],
                        $"has no value in the label tag ({options.LabelTag})."
                    );
            if (reports is not null)
                reports[i] = Row(reportTable!, image, relative);
            patients[i] = image.PatientId;
            ids[i] = $"{relative}#{RecordIds.ContentHash(pixels.Image(i))}";
        }
        var withPatient = patients.Count(p => p is not null);
        if (withPatient > 0 && withPatient < files.Count)
            throw new DatasetFormatException(
                files[Array.FindIndex(patients, p => p is null)],
                $"has no PatientID (0010,0020), but {withPatient} of {files.Count} files have one; splits by patient "
                    + "need every file's."
            );
        var withReport = reports?.Count(r => !string.IsNullOrWhiteSpace(r)) ?? 0;
        if (reports is not null && withReport == 0)
            throw new DatasetFormatException(
                reportsFile!,
                "names no file of the folder (by SOP Instance UID or file name): no image has a report."
            );
        if (withReport > 0 && withReport < files.Count)
            throw new DatasetFormatException(
                files[Array.FindIndex(reports!, string.IsNullOrWhiteSpace)],
                $"has no report in {Path.GetFileName(reportsFile)} (by SOP Instance UID or file name), but "
                    + $"{withReport} of {files.Count} files have one; give every file a report (or none)."
            );
        return new ImageDataset(
            name ?? Path.GetFileName(root),
            pixels,
            1,
            size,
            size,
            Labels(labelTexts, root),
            ids,
            withPatient > 0 ? patients : null
        )
        {
            Reports = withReport > 0 ? reports : null,
        };
    }

    /// <summary>Labels as class numbers: integers as they are, else the distinct texts in ordinal order.</summary>
    private static long[] Labels(string[] texts, string root)
    {
        var numbers = new long[texts.Length];
        if (texts.All(t => long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)))
        {
            for (var i = 0; i < texts.Length; i++)
                numbers[i] = long.Parse(texts[i], CultureInfo.InvariantCulture);
            if (numbers.Any(n => n < 0 || n >= ImageDataset.MaxClasses))
                throw new DatasetFormatException(
                    root,
                    $"labels must be class numbers from 0 to {ImageDataset.MaxClasses - 1}."
                );
            return numbers;
        }
        var classes = texts
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select((text, index) => (text, index))
            .ToDictionary(c => c.text, c => (long)c.index, StringComparer.Ordinal);
        return texts.Select(t => classes[t]).ToArray();
    }

    /// <summary>A keyed CSV's value for a file: by its SOP Instance UID, else by its path in the folder.</summary>
    private static string? Row(Dictionary<string, string> table, DicomFile image, string relative) =>
        image.SopInstanceUid is { } uid && table.TryGetValue(uid, out var byUid)
            ? byUid
            : table.GetValueOrDefault(relative);

    /// <summary>The CSV's <paramref name="column"/> (a label or a report) by SOP Instance UID and by file name
    /// (relative to the folder). Reports are checked as every reader checks them, naming the line.</summary>
    private static Dictionary<string, string> ReadKeyed(string path, string column)
    {
        if (!File.Exists(path))
            throw new DatasetFormatException(path, $"{column}s file not found.");
        if (ReportText.FirstInvalidUtf8Line(path) is { } badLine)
            throw new DatasetFormatException(path, $"line {badLine}: not valid UTF-8 text.");
        using var csv = CsvReader.FromFile(
            path,
            new CsvReaderOptions { TrackLineNumbers = true },
            FileOptions.SequentialScan
        );
        csv.ReadHeader();
        var header = csv.Headers.Select(h => h.Trim().ToLowerInvariant()).ToList();
        var (label, uid, file) = (
            header.IndexOf(column),
            header.IndexOf("sop_instance_uid"),
            header.IndexOf("file_name")
        );
        if (label < 0 || (uid < 0 && file < 0))
            throw new DatasetFormatException(
                path,
                $"header must name a '{column}' column and a 'sop_instance_uid' or "
                    + $"'file_name' one; found '{string.Join(",", header)}'."
            );
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        while (csv.Read())
        {
            if (csv.FieldCount < header.Count)
                throw new DatasetFormatException(
                    path,
                    $"line {csv.LineNumber}: {csv.FieldCount} fields, fewer than the header's."
                );
            var value = csv.GetString(label).Trim();
            if (column == "report" && ReportText.Check(value) is { } problem)
                throw new DatasetFormatException(path, $"line {csv.LineNumber}: {problem}.");
            if (uid >= 0 && csv.GetString(uid).Trim() is { Length: > 0 } key)
                labels[key] = value;
            if (file >= 0 && csv.GetString(file).Trim() is { Length: > 0 } name)
                labels[name] = value;
        }
        return labels;
    }

    /// <summary>The centred square of the image, resized to size x size.</summary>
    private static byte[] Square(byte[] pixels, int height, int width, int size)
    {
        var side = Math.Min(height, width);
        var info = new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var source = new SKBitmap(info);
        pixels.CopyTo(source.GetPixelSpan());
        using var square = new SKBitmap();
        if (!source.ExtractSubset(square, SKRectI.Create((width - side) / 2, (height - side) / 2, side, side)))
            throw new InvalidOperationException("The centred square could not be cut out.");
        using var resized = square.Resize(
            new SKImageInfo(size, size, SKColorType.Gray8, SKAlphaType.Opaque),
            new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
        );
        var result = new byte[size * size];
        var span = resized.GetPixelSpan();
        for (var row = 0; row < size; row++)
            span.Slice(row * resized.RowBytes, size).CopyTo(result.AsSpan(row * size));
        return result;
    }
}
