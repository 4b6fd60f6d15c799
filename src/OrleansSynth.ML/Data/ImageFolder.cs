using OrleansSynth.ML.Imaging;

namespace OrleansSynth.ML.Data;

/// <summary>
/// A plain folder of images (e.g. a synthetic set to audit): every file must be an image of the expected
/// shape. The record id of an image is its file name. A metadata.csv or labels.csv beside them is allowed and ignored.
/// </summary>
public static class ImageFolder
{
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".bmp",
        ".webp",
    };
    private static readonly HashSet<string> AllowedSidecars = new(StringComparer.OrdinalIgnoreCase)
    {
        "metadata.csv",
        "labels.csv",
        "manifest.csv",
    };

    public static ImageDataset Load(string folder, int channels, int height, int width)
    {
        if (!Directory.Exists(folder))
            throw new DatasetFormatException(folder, "folder not found.");
        var files = Directory
            .GetFiles(folder)
            .Where(f => !AllowedSidecars.Contains(Path.GetFileName(f)))
            .Order(StringComparer.Ordinal)
            .ToArray();
        var notImages = files.Where(f => !ImageExtensions.Contains(Path.GetExtension(f))).ToArray();
        if (notImages.Length > 0)
            throw new DatasetFormatException(
                notImages[0],
                $"is not an image file ({notImages.Length} non-image file(s) in {folder}); the folder must hold "
                    + $"only images."
            );
        if (files.Length == 0)
            throw new DatasetFormatException(folder, "the folder holds no images.");

        var imageBytes = channels * height * width;
        var pixels = ImagePixels.Allocate(files.Length, imageBytes);
        for (var i = 0; i < files.Length; i++)
        {
            PngImage image;
            try
            {
                image = PngImage.Read(files[i]);
            }
            catch (InvalidDataException e)
            {
                throw new DatasetFormatException(files[i], $"could not be decoded as an image ({e.Message}).", e);
            }
            if (image.Height != height || image.Width != width || image.Channels != channels)
                throw new DatasetFormatException(
                    files[i],
                    $"is {image.Width}x{image.Height} with {image.Channels} channel(s); the dataset's images are "
                        + $"{width}x{height} with {channels}."
                );
            image.Pixels.CopyTo(pixels.Image(i));
        }
        return new ImageDataset(
            Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)),
            pixels,
            channels,
            height,
            width,
            new long[files.Length],
            files.Select(Path.GetFileName).ToArray()!,
            numClasses: 1
        );
    }
}
