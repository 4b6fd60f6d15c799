using System.Text;
using OrleansSynth.ML.Imaging;

namespace OrleansSynth.ML.Tests;

/// <summary>Files that lie about their size, for the bounded-input tests (shared with the CLI process tests).</summary>
public static class HostileFiles
{
    /// <summary>A valid 2x2 PNG whose header (with a correct checksum) claims <paramref name="side"/> x <paramref
    /// name="side"/> pixels.</summary>
    public static byte[] PngClaiming(uint side)
    {
        var png = new PngImage(new byte[4], 1, 2, 2).ToPng();
        BigEndian(side).CopyTo(png, 16);
        BigEndian(side).CopyTo(png, 20);
        BigEndian(Crc32(png.AsSpan(12, 17))).CopyTo(png, 29);
        return png;
    }

    /// <summary>A .npy v1 array whose header declares <paramref name="shape"/> (NumPy's tuple syntax), whatever the
    /// data holds.</summary>
    public static byte[] NpyClaiming(string descr, string shape, byte[] data)
    {
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        header = header.PadRight(header.Length + (64 - (10 + header.Length + 1) % 64) % 64) + "\n";
        return
        [
            0x93,
            .. "NUMPY"u8,
            1,
            0,
            (byte)header.Length,
            (byte)(header.Length >> 8),
            .. Encoding.ASCII.GetBytes(header),
            .. data,
        ];
    }

    private static byte[] BigEndian(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    /// <summary>PNG's chunk checksum (CRC-32, polynomial 0xEDB88320).</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
