using System.IO.Compression;

namespace OrleansSynth.ML.Data;

/// <summary>
/// MedMNIST-style .npz archives: {train,val,test}_images (uint8, [N,H,W] or [N,H,W,C]) and
/// {train,val,test}_labels (integers, [N] or [N,1]).
/// </summary>
public static class NpzDataset
{
    public static ImageDataset Load(string path, DatasetSplit split, string? name = null)
    {
        if (!File.Exists(path)) throw new DatasetFormatException(path, "file not found.");
        var prefix = split switch { DatasetSplit.Train => "train", DatasetSplit.Validation => "val", _ => "test" };
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
            var images = ReadEntry(archive, path, $"{prefix}_images");
            var labels = ReadEntry(archive, path, $"{prefix}_labels");
            var source = $"{path}:{prefix}_images";
            if (images.Shape.Length is not (3 or 4))
                throw new DatasetFormatException(source, $"expected shape (N, H, W) or (N, H, W, C), found ({string.Join(", ", images.Shape)}).");
            var (count, height, width) = (images.Shape[0], images.Shape[1], images.Shape[2]);
            var channels = images.Shape.Length == 4 ? images.Shape[3] : 1;
            var labelValues = labels.AsLongs($"{path}:{prefix}_labels");
            if (labelValues.Length != count)
                throw new DatasetFormatException($"{path}:{prefix}_labels", $"has {labelValues.Length} labels for {count} images (multi-label arrays are not supported).");
            if (labelValues.Any(l => l < 0 || l >= ImageDataset.MaxClasses))
                throw new DatasetFormatException($"{path}:{prefix}_labels", $"labels must be class numbers from 0 to {ImageDataset.MaxClasses - 1}.");

            var pixels = ToChannelsFirst(images.AsBytes(source), count, height, width, channels);
            var splitName = split.ToString().ToLowerInvariant();
            var imageBytes = channels * height * width;
            var ids = Enumerable.Range(0, count)
                .Select(i => RecordIds.ForIndexed(splitName, i, pixels.AsSpan(i * imageBytes, imageBytes))).ToArray();
            return new ImageDataset(name ?? $"{Path.GetFileNameWithoutExtension(path)}/{splitName}", pixels, channels, height, width, labelValues, ids);
        }
    }

    private static NpyArray ReadEntry(ZipArchive archive, string path, string key)
    {
        var entry = archive.GetEntry(key + ".npy") ?? archive.GetEntry(key)
            ?? throw new DatasetFormatException(path, $"has no array '{key}' (found: {string.Join(", ", archive.Entries.Select(e => e.Name))}).");
        using var stream = entry.Open();
        // The entry's declared size bounds the array; the stream itself stops there, whatever the compressed data says.
        return NpyArray.Read(stream, $"{path}:{key}", Math.Min(entry.Length, int.MaxValue));
    }

    private static byte[] ToChannelsFirst(byte[] hwc, int count, int height, int width, int channels)
    {
        if (channels == 1) return hwc;
        var chw = new byte[hwc.Length];
        var plane = height * width;
        for (var n = 0; n < count; n++)
        for (var p = 0; p < plane; p++)
        for (var c = 0; c < channels; c++)
            chw[n * plane * channels + c * plane + p] = hwc[(n * plane + p) * channels + c];
        return chw;
    }
}
