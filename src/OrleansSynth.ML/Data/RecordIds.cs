using System.Security.Cryptography;

namespace OrleansSynth.ML.Data;

/// <summary>
/// Stable record ids: the split, the position in the source file, and a short content hash, so an id
/// names the same image for as long as the source file is unchanged and a changed image gets a new id.
/// </summary>
public static class RecordIds
{
    public static string ForIndexed(string split, int index, ReadOnlySpan<byte> pixels) =>
        $"{split}-{index:D6}-{ContentHash(pixels)}";

    /// <summary>First 8 hex characters of the SHA-256 of the pixels.</summary>
    public static string ContentHash(ReadOnlySpan<byte> pixels)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(pixels, hash);
        return Convert.ToHexStringLower(hash[..4]);
    }
}
