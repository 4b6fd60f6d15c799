namespace OrleansSynth.ML.Data;

/// <summary>
/// Resolves a dataset name or path to its format and location, and loads its splits.
/// Known names: <c>fashion-mnist</c> (Debian's dataset-fashion-mnist package) and <c>fashion-mnist-6k</c>, the first
/// 6,000 of its training records with all of its test records (<c>synth demo --preset quick</c>'s slice). Anything
/// else is a path: a folder of DICOM files, a folder of IDX files, a .npz archive, or a .csv manifest.
/// </summary>
public static class DatasetCatalog
{
    /// <summary>A named dataset: its folder under <see cref="DatasetsRoot"/>, and how many of its training records it
    /// keeps (null: all).</summary>
    public sealed record KnownDataset(string Folder, int? TrainingRecords = null);

    /// <summary>Overrides where named datasets are looked for (default /usr/share/datasets).</summary>
    public const string RootVariable = "ORLEANSSYNTH_DATASETS";

    public static readonly IReadOnlyDictionary<string, KnownDataset> KnownNames = new Dictionary<string, KnownDataset>(
        StringComparer.OrdinalIgnoreCase
    )
    {
        ["fashion-mnist"] = new("fashion-mnist"),
        ["fashion-mnist-6k"] = new("fashion-mnist", TrainingRecords: 6000),
    };

    public static string DatasetsRoot =>
        Environment.GetEnvironmentVariable(RootVariable) is { Length: > 0 } root ? root : "/usr/share/datasets";

    public static (DatasetFormat Format, string Path) Resolve(string nameOrPath)
    {
        if (KnownNames.TryGetValue(nameOrPath, out var known))
        {
            var folder = known.Folder;
            var path = System.IO.Path.Combine(DatasetsRoot, folder);
            if (!Directory.Exists(path))
                throw new DatasetFormatException(
                    path,
                    $"dataset '{nameOrPath}' is not installed (on Debian/Ubuntu: apt-get install dataset-{folder})."
                );
            return (DatasetFormat.Idx, path);
        }
        if (Directory.Exists(nameOrPath))
            return (DicomDataset.IsDicomFolder(nameOrPath) ? DatasetFormat.Dicom : DatasetFormat.Idx, nameOrPath);
        if (File.Exists(nameOrPath))
        {
            return System.IO.Path.GetExtension(nameOrPath).ToLowerInvariant() switch
            {
                ".npz" => (DatasetFormat.Npz, nameOrPath),
                ".csv" => (DatasetFormat.ImageFolder, nameOrPath),
                var other => throw new DatasetFormatException(
                    nameOrPath,
                    $"unknown dataset file type '{other}'; expected a .npz archive or a .csv manifest."
                ),
            };
        }
        throw new DatasetFormatException(
            nameOrPath,
            $"no such dataset: not a known name ({string.Join(", ", KnownNames.Keys)}), a folder of DICOM or IDX "
                + $"files, a .npz archive or a .csv manifest."
        );
    }

    /// <summary>
    /// Loads the train or test split. IDX and npz files carry their own splits; an image folder is split by
    /// patient (20% test) with a fixed seed so every caller sees the same split.
    /// </summary>
    /// <param name="allowPathsOutside">For a CSV manifest: accept image paths outside the manifest's folder.</param>
    /// <param name="reportColumn">For a CSV manifest: the column of reports (default <c>report</c>, if
    /// present).</param>
    public static ImageDataset Load(
        string nameOrPath,
        DatasetSplit split,
        bool allowPathsOutside = false,
        string? reportColumn = null
    )
    {
        var (format, path) = Resolve(nameOrPath);
        return format switch
        {
            DatasetFormat.Idx
                when KnownNames.GetValueOrDefault(nameOrPath)?.TrainingRecords is { } records
                    && split == DatasetSplit.Train => Slice(IdxDataset.Load(path, split), records, nameOrPath),
            DatasetFormat.Idx => IdxDataset.Load(path, split),
            DatasetFormat.Npz => NpzDataset.Load(path, split),
            DatasetFormat.ImageFolder => SplitFolder(
                ImageFolderDataset.Load(path, allowPathsOutside: allowPathsOutside, reportColumn: reportColumn),
                split
            ),
            DatasetFormat.Dicom => SplitFolder(DicomDataset.Load(path), split),
            _ => throw new ArgumentOutOfRangeException(nameof(nameOrPath)),
        };
    }

    /// <summary>The file a record of a split was read from: the manifest row's image, else the split's IDX or npz
    /// file.</summary>
    public static string SourceFileOf(string nameOrPath, DatasetSplit split, string recordId)
    {
        var (format, path) = Resolve(nameOrPath);
        return format switch
        {
            DatasetFormat.ImageFolder => System.IO.Path.GetFullPath(
                System.IO.Path.Combine(
                    System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!,
                    recordId[..recordId.LastIndexOf('#')]
                )
            ),
            DatasetFormat.Dicom => System.IO.Path.GetFullPath(
                System.IO.Path.Combine(path, recordId[..recordId.LastIndexOf('#')])
            ),
            DatasetFormat.Idx => System.IO.Path.Combine(
                path,
                $"{(split == DatasetSplit.Train ? "train" : "t10k")}-images-idx3-ubyte.gz"
            ),
            _ => path,
        };
    }

    private static ImageDataset Slice(ImageDataset all, int records, string name) =>
        all.Subset(Enumerable.Range(0, Math.Min(records, all.Count)).ToArray(), $"{name}/train");

    private static ImageDataset SplitFolder(ImageDataset all, DatasetSplit split)
    {
        var (train, test) = PatientSplitter.Split(all, 0.2, seed: 0, $"{all.Name}/train", $"{all.Name}/test");
        return split == DatasetSplit.Train ? train : test;
    }
}
