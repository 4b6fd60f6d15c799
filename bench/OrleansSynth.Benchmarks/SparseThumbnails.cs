using OrleansSynth.ML.Data;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// A sparse dataset made from a dense one: each image shrunk to half its size (2x2 means) in the middle of a black
/// canvas. On Fashion-MNIST that is 7% mean intensity, as sparse as handwritten digits, and 93% of its test images lie
/// within 2% mean absolute pixel difference of some training image (a 400-image sample): the case where a fixed pixel
/// tolerance would call distinct people copies.
/// </summary>
public static class SparseThumbnails
{
    public static ImageDataset Of(ImageDataset dense)
    {
        var (h, w) = (dense.Height, dense.Width);
        var (top, left) = ((h - h / 2) / 2, (w - w / 2) / 2);
        var pixels = new byte[dense.Count * h * w];
        for (var i = 0; i < dense.Count; i++)
        {
            var image = dense.ImageAt(i);
            var canvas = pixels.AsSpan(i * h * w, h * w);
            for (var y = 0; y < h / 2; y++)
            for (var x = 0; x < w / 2; x++)
            {
                var sum =
                    image[2 * y * w + 2 * x]
                    + image[2 * y * w + 2 * x + 1]
                    + image[(2 * y + 1) * w + 2 * x]
                    + image[(2 * y + 1) * w + 2 * x + 1];
                canvas[(top + y) * w + left + x] = (byte)((sum + 2) / 4);
            }
        }
        return new ImageDataset(
            $"{dense.Name}/thumbnails",
            pixels,
            1,
            h,
            w,
            dense.Labels,
            dense.RecordIds,
            dense.PatientIds,
            dense.NumClasses
        );
    }
}
