namespace OrleansSynth.ML.Data;

/// <summary>
/// The 8-bit pixels of many same-shaped images, image after image, in chunks of whole images: one .NET array holds at
/// most 2 GiB and a dataset may hold more. Chunks are allocated as data arrives, so a header that promises more than a
/// file holds costs no memory.
/// </summary>
public sealed class ImagePixels
{
    /// <summary>
    /// Bytes per chunk at most (a single image larger than this gets a chunk of its own). Small enough that a forged
    /// header costs little before the data runs out, large enough that a big set is a few dozen arrays.
    /// </summary>
    public const int DefaultChunkBytes = 64 << 20;

    private readonly List<byte[]> _chunks;
    private readonly int _imagesPerChunk;

    private ImagePixels(List<byte[]> chunks, int count, int imageBytes, int imagesPerChunk)
    {
        _chunks = chunks;
        Count = count;
        ImageBytes = imageBytes;
        _imagesPerChunk = imagesPerChunk;
    }

    public int Count { get; }
    public int ImageBytes { get; }
    public long Length => (long)Count * ImageBytes;

    /// <summary>Pixels held in one existing array (no copy).</summary>
    public static ImagePixels Wrap(byte[] pixels, int imageBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageBytes);
        if (pixels.Length % imageBytes != 0)
            throw new ArgumentException($"{pixels.Length} bytes are not a whole number of {imageBytes}-byte images.");
        var count = pixels.Length / imageBytes;
        return new ImagePixels([pixels], count, imageBytes, Math.Max(1, count));
    }

    /// <summary>Zeroed pixels for <paramref name="count"/> images, to be filled through <see cref="Image"/>.</summary>
    public static ImagePixels Allocate(int count, int imageBytes, int chunkBytes = DefaultChunkBytes)
    {
        var pixels = Empty(count, imageBytes, chunkBytes);
        for (var start = 0; start < count; start += pixels._imagesPerChunk)
            pixels._chunks.Add(new byte[(long)Math.Min(pixels._imagesPerChunk, count - start) * imageBytes]);
        return pixels;
    }

    /// <summary>
    /// Exactly <paramref name="count"/> images from <paramref name="stream"/>; null when the stream ends first, with
    /// the bytes it held in <paramref name="bytesRead"/>. Memory grows with the data actually read.
    /// </summary>
    public static ImagePixels? Read(
        Stream stream,
        int count,
        int imageBytes,
        out long bytesRead,
        int chunkBytes = DefaultChunkBytes
    )
    {
        var pixels = Empty(count, imageBytes, chunkBytes);
        bytesRead = 0;
        for (var start = 0; start < count; start += pixels._imagesPerChunk)
        {
            var chunk = new byte[(long)Math.Min(pixels._imagesPerChunk, count - start) * imageBytes];
            var read = stream.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false);
            bytesRead += read;
            if (read < chunk.Length)
                return null;
            pixels._chunks.Add(chunk);
        }
        return pixels;
    }

    /// <summary>The parts, one after the other.</summary>
    public static ImagePixels Concat(IReadOnlyList<ImagePixels> parts)
    {
        if (parts.Count == 0)
            throw new ArgumentException("Nothing to concatenate.");
        var imageBytes = parts[0].ImageBytes;
        if (parts.Any(p => p.ImageBytes != imageBytes))
            throw new ArgumentException("Images of different sizes cannot be concatenated.");
        var result = Allocate(checked(parts.Sum(p => p.Count)), imageBytes);
        var next = 0;
        foreach (var part in parts)
            for (var i = 0; i < part.Count; i++)
                part.Image(i).CopyTo(result.Image(next++));
        return result;
    }

    /// <summary>The bytes of image <paramref name="index"/>, [C,H,W] row-major.</summary>
    public Span<byte> Image(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"image {index} of {Count}");
        return _chunks[index / _imagesPerChunk].AsSpan(index % _imagesPerChunk * ImageBytes, ImageBytes);
    }

    /// <summary>Every pixel in order, chunk by chunk (for hashing and writing).</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Segments() => _chunks.Select(c => (ReadOnlyMemory<byte>)c);

    public void WriteTo(Stream stream)
    {
        foreach (var chunk in _chunks)
            stream.Write(chunk);
    }

    /// <summary>All pixels in one array; only for sets under 2 GiB.</summary>
    public byte[] ToArray()
    {
        if (Length > Array.MaxLength)
            throw new InvalidOperationException($"{Length} bytes of pixels do not fit one array.");
        if (_chunks.Count == 1)
            return (byte[])_chunks[0].Clone();
        var all = new byte[Length];
        var offset = 0;
        foreach (var chunk in _chunks)
        {
            chunk.CopyTo(all, offset);
            offset += chunk.Length;
        }
        return all;
    }

    private static ImagePixels Empty(int count, int imageBytes, int chunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageBytes);
        return new ImagePixels([], count, imageBytes, Math.Max(1, chunkBytes / imageBytes));
    }
}
