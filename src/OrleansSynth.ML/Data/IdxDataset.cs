namespace OrleansSynth.ML.Data;

/// <summary>The MNIST-style file layout: train-/t10k- images and labels, .gz or raw, in one folder.</summary>
public static class IdxDataset
{
    /// <param name="numClasses">The classes the labels must fall in (10 for MNIST and Fashion-MNIST).</param>
    public static ImageDataset Load(string directory, DatasetSplit split, string? name = null, int numClasses = 10)
    {
        if (!Directory.Exists(directory))
            throw new DatasetFormatException(directory, "dataset folder not found.");
        var prefix = split == DatasetSplit.Train ? "train" : "t10k";
        var imagesPath = Find(directory, $"{prefix}-images-idx3-ubyte");
        var labelsPath = Find(directory, $"{prefix}-labels-idx1-ubyte");
        var (pixels, count, rows, cols) = IdxReader.ReadImages(imagesPath);
        var labelBytes = IdxReader.ReadLabels(labelsPath);
        if (labelBytes.Length != count)
            throw new DatasetFormatException(
                labelsPath,
                $"has {labelBytes.Length} labels but {imagesPath} has {count} images."
            );

        var outOfRange = Array.FindIndex(labelBytes, l => l >= numClasses);
        if (outOfRange >= 0)
            throw new DatasetFormatException(
                labelsPath,
                $"label {labelBytes[outOfRange]} at position {outOfRange} is beyond the {numClasses} classes of "
                    + $"this dataset (0-{numClasses - 1})."
            );
        var splitName = split.ToString().ToLowerInvariant();
        var ids = new string[count];
        for (var i = 0; i < count; i++)
            ids[i] = RecordIds.ForIndexed(splitName, i, pixels.Image(i));
        return new ImageDataset(
            name ?? $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(directory))}/{splitName}",
            pixels,
            1,
            rows,
            cols,
            labelBytes.Select(b => (long)b).ToArray(),
            ids,
            numClasses: numClasses
        );
    }

    private static string Find(string directory, string stem)
    {
        foreach (
            var candidate in new[]
            {
                stem + ".gz",
                stem,
                stem.Replace("-idx", ".idx") + ".gz",
                stem.Replace("-idx", ".idx"),
            }
        )
        {
            var path = Path.Combine(directory, candidate);
            if (File.Exists(path))
                return path;
        }
        throw new DatasetFormatException(
            Path.Combine(directory, stem + ".gz"),
            "file not found (also looked for the uncompressed name)."
        );
    }
}
