using System.Security.Cryptography;
using System.Text.Json;

namespace OrleansSynth.Grains;

/// <summary>
/// A spec's identity by content: records holding lists compare those lists by reference, so two equal specs, one of
/// them deserialized, would differ under ==.
/// </summary>
public static class SpecFingerprint
{
    public static string Of<T>(T spec) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(spec)));
}
