using OrleansSynth.ML.Imaging;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace OrleansSynth.ML.Data;

/// <summary>
/// How a folder of DICOM files becomes a dataset, from the folder's optional <c>dataset.yaml</c>: where the labels
/// come from, the intensity window, and the square size images are resized to.
/// </summary>
public sealed record DicomDatasetOptions
{
    public const string FileName = "dataset.yaml";
    public const string DefaultLabelsFile = "labels.csv";
    public const string DefaultReportsFile = "reports.csv";
    public const int DefaultImageSize = 64;

    /// <summary>A CSV in the folder with a <c>label</c> column and a <c>sop_instance_uid</c> or <c>file_name</c>
    /// one.</summary>
    public string? Labels { get; init; }

    /// <summary>A CSV in the folder with a <c>report</c> column, keyed like <see cref="Labels"/>: the text beside each
    /// image. Every file has one, or the folder is refused; a <see cref="DefaultReportsFile"/> is read by
    /// default.</summary>
    public string? Reports { get; init; }

    /// <summary>The label from this tag instead ("gggg,eeee"): integers as they are, text as classes in sorted
    /// order.</summary>
    public string? LabelTag { get; init; }

    /// <summary><c>file</c>: each file's own window, the percentile window where it has none;
    /// <c>percentile</c>.</summary>
    public string Window { get; init; } = "file";
    public double[] Percentiles { get; init; } =
    [IntensityWindow.DefaultLowPercentile, IntensityWindow.DefaultHighPercentile];
    public int ImageSize { get; init; } = DefaultImageSize;

    public static DicomDatasetOptions Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        DicomDatasetOptions options;
        if (!File.Exists(path))
        {
            options = new DicomDatasetOptions();
        }
        else
        {
            var yaml = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
            try
            {
                options = yaml.Deserialize<DicomDatasetOptions?>(File.ReadAllText(path)) ?? new DicomDatasetOptions();
            }
            catch (YamlException e)
            {
                throw new DatasetFormatException(
                    path,
                    $"line {e.Start.Line}: {e.InnerException?.Message ?? e.Message}",
                    e
                );
            }
        }
        if (options.Labels is null && options.LabelTag is null && File.Exists(Path.Combine(folder, DefaultLabelsFile)))
            options = options with { Labels = DefaultLabelsFile };
        if (options.Reports is null && File.Exists(Path.Combine(folder, DefaultReportsFile)))
            options = options with { Reports = DefaultReportsFile };
        options.Validate(path);
        return options;
    }

    private void Validate(string path)
    {
        if (Labels is null && LabelTag is null)
            throw new DatasetFormatException(
                path,
                $"says nothing of labels: give 'labels' (a CSV) or 'labelTag', or put "
                    + $"a {DefaultLabelsFile} in the folder."
            );
        if (Labels is not null && LabelTag is not null)
            throw new DatasetFormatException(path, "gives both 'labels' and 'labelTag'; give one.");
        if (Window is not ("file" or "percentile"))
            throw new DatasetFormatException(path, $"window '{Window}' is neither 'file' nor 'percentile'.");
        if (Percentiles is not [var low, var high] || low < 0 || high > 100 || low >= high)
            throw new DatasetFormatException(path, "percentiles must be two numbers, low below high, within 0..100.");
        if (ImageSize is < 8 or > 1024 || ImageSize % 4 != 0)
            throw new DatasetFormatException(path, $"imageSize {ImageSize} must be a multiple of 4 from 8 to 1024.");
        if (LabelTag is not null)
        {
            try
            {
                DicomFile.ParseTag(LabelTag);
            }
            catch (FormatException e)
            {
                throw new DatasetFormatException(path, e.Message, e);
            }
        }
    }
}
