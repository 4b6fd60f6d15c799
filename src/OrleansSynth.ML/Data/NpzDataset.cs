using System.IO.Compression;

namespace OrleansSynth.ML.Data;

/// <summary>
/// MedMNIST-style .npz archives: {train,val,test}_images (uint8; or uint16, int16, float32, float64, each image mapped
/// to 8 bits between its own 0.5th and 99.5th percentiles; [N,H,W] or [N,H,W,C]) and
/// {train,val,test}_labels (integers, [N] or [N,1]).
/// </summary>
public static class NpzDataset
{
    public static ImageDataset Load(string path, DatasetSplit split, string? name = null)
    {
        if (!File.Exists(path))
            throw new DatasetFormatException(path, "file not found.");
        var prefix = split switch
        {
            DatasetSplit.Train => "train",
            DatasetSplit.Validation => "val",
            _ => "test",
        };
        ZipArchive archive;
        try
        {
            archive = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException(path, "not a valid .npz (zip) archive.", e);
        }

        using (archive)
        {
            var source = $"{path}:{prefix}_images";
            var (pixels, shape) = ReadEntry(archive, path, $"{prefix}_images", array =>
            {
                if (array.Shape.Length is not (3 or 4))
                    throw new DatasetFormatException(
                        source,
                        $"expected shape (N, H, W) or (N, H, W, C), found ({string.Join(", ", array.Shape)})."
                    );
                return (array.ReadImages(), array.Shape);
            });
            var labelValues = ReadEntry(archive, path, $"{prefix}_labels", array => array.ReadLongs());
            var (count, height, width) = (shape[0], shape[1], shape[2]);
            var channels = shape.Length == 4 ? shape[3] : 1;
            if (labelValues.Length != count)
                throw new DatasetFormatException(
                    $"{path}:{prefix}_labels",
                    $"has {labelValues.Length} labels for {count} images (multi-label arrays are not supported)."
                );
            if (labelValues.Any(l => l < 0 || l >= ImageDataset.MaxClasses))
                throw new DatasetFormatException(
                    $"{path}:{prefix}_labels",
                    $"labels must be class numbers from 0 to {ImageDataset.MaxClasses - 1}."
                );

            var splitName = split.ToString().ToLowerInvariant();
            var ids = Enumerable
                .Range(0, count)
                .Select(i => RecordIds.ForIndexed(splitName, i, pixels.Image(i)))
                .ToArray();
            return new ImageDataset(
                name ?? $"{Path.GetFileNameWithoutExtension(path)}/{splitName}",
                pixels,
                channels,
                height,
                width,
                labelValues,
                ids
            );
        }
    }

    private static T ReadEntry<T>(ZipArchive archive, string path, string key, Func<NpyArray, T> read)
    {
        var entry = archive.GetEntry(key + ".npy")
            ?? archive.GetEntry(key)
            ?? throw new DatasetFormatException(
                path,
                $"has no array '{key}' (found: {string.Join(", ", archive.Entries.Select(e => e.Name))})."
            );
        using var stream = entry.Open();
        // The entry's declared size bounds the array; the stream itself stops there, whatever the compressed data says.
        return read(NpyArray.Open(stream, $"{path}:{key}", entry.Length));
    }
}
