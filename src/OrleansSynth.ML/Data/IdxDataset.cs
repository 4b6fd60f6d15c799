namespace OrleansSynth.ML.Data;

/// <summary>The MNIST-style file layout: train-/t10k- images and labels, .gz or raw, in one folder.</summary>
public static class IdxDataset
{
    public static ImageDataset Load(string directory, DatasetSplit split, string? name = null)
    {
        if (!Directory.Exists(directory)) throw new DatasetFormatException(directory, "dataset folder not found.");
        var prefix = split == DatasetSplit.Train ? "train" : "t10k";
        var imagesPath = Find(directory, $"{prefix}-images-idx3-ubyte");
        var labelsPath = Find(directory, $"{prefix}-labels-idx1-ubyte");
        var (pixels, count, rows, cols) = IdxReader.ReadImages(imagesPath);
        var labelBytes = IdxReader.ReadLabels(labelsPath);
        if (labelBytes.Length != count)
            throw new DatasetFormatException(labelsPath, $"has {labelBytes.Length} labels but {imagesPath} has {count} images.");

        var splitName = split.ToString().ToLowerInvariant();
        var imageBytes = rows * cols;
        var ids = new string[count];
        for (var i = 0; i < count; i++)
            ids[i] = RecordIds.ForIndexed(splitName, i, pixels.AsSpan(i * imageBytes, imageBytes));
        return new ImageDataset(
            name ?? $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(directory))}/{splitName}",
            pixels, 1, rows, cols, labelBytes.Select(b => (long)b).ToArray(), ids, numClasses: 10);
    }

    private static string Find(string directory, string stem)
    {
        foreach (var candidate in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") + ".gz", stem.Replace("-idx", ".idx") })
        {
            var path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new DatasetFormatException(Path.Combine(directory, stem + ".gz"), "file not found (also looked for the uncompressed name).");
    }
}
