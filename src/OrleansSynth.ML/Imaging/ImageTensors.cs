using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Imaging;

/// <summary>Conversions between model tensors in [-1, 1] and 8-bit images, and grids of them.</summary>
public static class ImageTensors
{
    /// <summary>[N,C,H,W] floats in [-1, 1] to bytes, same layout.</summary>
    public static byte[] ToBytes(Tensor images)
    {
        using var scope = NewDisposeScope();
        var bytes = images
            .detach()
            .cpu()
            .Plus(1)
            .Times(127.5)
            .round()
            .Clamp(0, 255)
            .to_type(ScalarType.Byte)
            .contiguous();
        return bytes.data<byte>().ToArray();
    }

    /// <summary>Image <paramref name="index"/> of a [N,C,H,W] tensor in [-1, 1] as a PNG-ready image.</summary>
    public static PngImage ToImage(Tensor images, int index)
    {
        using var one = images[index].unsqueeze(0);
        var (c, h, w) = ((int)images.shape[1], (int)images.shape[2], (int)images.shape[3]);
        return new PngImage(ToBytes(one), c, h, w);
    }

    /// <summary>Tiles [N,C,H,W] images in [-1, 1] row by row into one image, with a 2-pixel dark border between
    /// tiles.</summary>
    public static PngImage Grid(Tensor images, int columns, int scale = 1, int padding = 2)
    {
        var (n, c, h, w) = ((int)images.shape[0], (int)images.shape[1], (int)images.shape[2], (int)images.shape[3]);
        if (n == 0)
            throw new ArgumentException("No images to tile.");
        columns = Math.Clamp(columns, 1, n);
        var rows = (n + columns - 1) / columns;
        var (tileH, tileW) = (h * scale, w * scale);
        var (gridH, gridW) = (rows * (tileH + padding) + padding, columns * (tileW + padding) + padding);
        var source = ToBytes(images);
        var grid = new byte[c * gridH * gridW];
        for (var i = 0; i < n; i++)
        {
            var (top, left) = (padding + i / columns * (tileH + padding), padding + i % columns * (tileW + padding));
            for (var ch = 0; ch < c; ch++)
            for (var y = 0; y < tileH; y++)
            for (var x = 0; x < tileW; x++)
                grid[ch * gridH * gridW + (top + y) * gridW + left + x] = source[
                    ((i * c + ch) * h + y / scale) * w + x / scale
                ];
        }
        return new PngImage(grid, c, gridH, gridW);
    }
}
