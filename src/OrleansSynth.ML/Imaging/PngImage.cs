using SkiaSharp;

namespace OrleansSynth.ML.Imaging;

/// <summary>A decoded image: bytes [C,H,W] row-major, 1 (grey) or 3 (RGB) channels.</summary>
public sealed record PngImage(byte[] Pixels, int Channels, int Height, int Width)
{
    public const int MaxSide = 8192;
    public const long MaxPixels = 16L * 1024 * 1024;

    /// <summary>Why a size an image's header declares is refused, or null: every reader asks before decoding.</summary>
    public static string? RefusedSize(long width, long height) =>
        width > MaxSide || height > MaxSide || width * height > MaxPixels
            ? $"declares {width}x{height} pixels, more than the {MaxSide}x{MaxSide} (and {MaxPixels} pixels) an "
                + "image may have here."
            : null;

    /// <summary>Decodes PNG (or any format SkiaSharp reads; 16-bit PNGs through <see cref="DeepPng"/>). Grey images,
    /// and colour images whose pixels are all grey, have 1 channel.</summary>
    public static PngImage Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: image file not found.", path);
        if (DeepPng.IsSixteenBit(path))
            return DeepPng.Read(path);
        using var codec = SKCodec.Create(path) ?? throw new InvalidDataException($"{path}: not a readable image.");
        // The header's size, checked before any pixel is decoded: a few bytes must not make us allocate gigabytes.
        if (RefusedSize(codec.Info.Width, codec.Info.Height) is { } tooLarge)
            throw new InvalidDataException($"{path}: the image {tooLarge}");
        using var bitmap = SKBitmap.Decode(
            codec,
            codec.Info.WithColorType(SKColorType.Rgba8888).WithAlphaType(SKAlphaType.Unpremul)
        ) ?? throw new InvalidDataException($"{path}: the image could not be decoded.");
        var (h, w) = (bitmap.Height, bitmap.Width);
        var rgba = bitmap.GetPixelSpan();
        var grey = codec.Info.ColorType == SKColorType.Gray8 || IsGrey(rgba);
        var channels = grey ? 1 : 3;
        var pixels = new byte[channels * h * w];
        var plane = h * w;
        for (var p = 0; p < plane; p++)
        for (var c = 0; c < channels; c++)
            pixels[c * plane + p] = rgba[p * 4 + c];
        return new PngImage(pixels, channels, h, w);
    }

    public void Write(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        File.WriteAllBytes(path, ToPng());
    }

    /// <summary>The image encoded as PNG.</summary>
    public byte[] ToPng()
    {
        if (Channels is not (1 or 3))
            throw new ArgumentException($"Only 1- or 3-channel images can be written, not {Channels}.");
        var info = new SKImageInfo(
            Width,
            Height,
            Channels == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888,
            SKAlphaType.Opaque
        );
        using var bitmap = new SKBitmap(info);
        var target = bitmap.GetPixelSpan();
        var plane = Height * Width;
        if (Channels == 1)
        {
            Pixels.AsSpan(0, plane).CopyTo(target);
        }
        else
        {
            for (var p = 0; p < plane; p++)
            {
                for (var c = 0; c < 3; c++)
                    target[p * 4 + c] = Pixels[c * plane + p];
                target[p * 4 + 3] = 255;
            }
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static bool IsGrey(ReadOnlySpan<byte> rgba)
    {
        for (var i = 0; i < rgba.Length; i += 4)
            if (rgba[i] != rgba[i + 1] || rgba[i] != rgba[i + 2])
                return false;
        return true;
    }
}
