using System.Globalization;
using System.Text;

namespace OrleansSynth.ML.Imaging;

/// <summary>
/// One single-frame greyscale DICOM image read with GDCM: its values after the modality rescale (slope and
/// intercept), its own window if it has one, whether it is MONOCHROME1, and the few tags a dataset needs. The header
/// is read and checked (size, frames, samples, bits) before any pixel data, so a forged header costs no memory.
/// </summary>
public sealed record DicomFile(
    double[] Values,
    int Height,
    int Width,
    bool Monochrome1,
    IntensityWindow? FileWindow,
    string? PatientId,
    string? SopInstanceUid,
    string? LabelTagValue
)
{
    public static readonly gdcm.Tag PixelData = new(0x7fe0, 0x0010);

    static DicomFile()
    {
        // GDCM writes warnings to stderr; every failure reaches the caller as an exception instead.
        gdcm.Trace.WarningOff();
        gdcm.Trace.ErrorOff();
        gdcm.Trace.DebugOff();
    }

    /// <param name="labelTag">A tag whose value is read as well (e.g. the label), or null.</param>
    /// <exception cref="InvalidDataException">Not DICOM, or DICOM this reader does not take; the message says
    /// why.</exception>
    public static DicomFile Read(string path, gdcm.Tag? labelTag = null)
    {
        using var header = new gdcm.Reader();
        header.SetFileName(path);
        if (!header.ReadUpToTag(PixelData, new gdcm.TagSetType()))
            throw new InvalidDataException(
                HasDicomPreamble(path)
                    ? $"is DICOM, but in a transfer syntax GDCM cannot read ({MetaTransferSyntax(path) ?? "unnamed"})."
                    : "is not a DICOM file."
            );
        var tags = new gdcm.StringFilter();
        tags.SetFile(header.GetFile());
        string? Text(ushort group, ushort element) =>
            tags.ToString(new gdcm.Tag(group, element)).Trim('\0', ' ') is { Length: > 0 } value ? value : null;
        double? Number(ushort group, ushort element) =>
            double.TryParse(
                Text(group, element)?.Split('\\')[0],
                NumberStyles.Float,
                CultureInfo.InvariantCulture,
                out var value
            )
                ? value
                : null;

        var (rows, columns) = ((int)(Number(0x0028, 0x0010) ?? 0), (int)(Number(0x0028, 0x0011) ?? 0));
        if (rows < 1 || columns < 1)
            throw new InvalidDataException("has no image (Rows and Columns are missing).");
        if (PngImage.RefusedSize(columns, rows) is { } tooLarge)
            throw new InvalidDataException(tooLarge);
        if (Number(0x0028, 0x0008) is > 1 and var frames)
            throw new InvalidDataException($"is multi-frame ({frames} frames); only single-frame images are read.");
        if (Number(0x0028, 0x0002) is { } samples && samples != 1)
            throw new InvalidDataException($"has {samples} samples per pixel; only greyscale images are read.");
        var photometric = Text(0x0028, 0x0004) ?? "MONOCHROME2";
        if (photometric is not ("MONOCHROME1" or "MONOCHROME2"))
            throw new InvalidDataException($"is {photometric}; only MONOCHROME1 and MONOCHROME2 are read.");
        var bitsAllocated = (int)(Number(0x0028, 0x0100) ?? 0);
        if (bitsAllocated is not (8 or 16))
            throw new InvalidDataException($"allocates {bitsAllocated} bits per pixel; 8 or 16 are read.");
        var bitsStored = (int)(Number(0x0028, 0x0101) ?? bitsAllocated);
        var signed = Number(0x0028, 0x0103) == 1;
        var (slope, intercept) = (Number(0x0028, 0x1053) ?? 1, Number(0x0028, 0x1052) ?? 0);
        IntensityWindow? window =
            Number(0x0028, 0x1050) is { } centre && Number(0x0028, 0x1051) is > 0 and var width
                ? IntensityWindow.FromCentreAndWidth(centre, width)
                : null;
        var label =
            labelTag is null ? null
            : tags.ToString(labelTag).Trim('\0', ' ') is { Length: > 0 } value ? value
            : null;
        var (patient, instance) = (Text(0x0010, 0x0020), Text(0x0008, 0x0018));

        var raw = DecodePixels(
            path,
            header.GetFile().GetHeader().GetDataSetTransferSyntax().GetString(),
            (long)rows * columns * (bitsAllocated / 8)
        );
        var values = new double[rows * columns];
        var mask = (1 << Math.Clamp(bitsStored, 1, bitsAllocated)) - 1;
        for (var i = 0; i < values.Length; i++)
        {
            var stored = (bitsAllocated == 8 ? raw[i] : BitConverter.ToUInt16(raw, i * 2)) & mask;
            // Signed values are two's complement in the stored bits.
            var modality = signed && (stored & (1 << (bitsStored - 1))) != 0 ? stored - (mask + 1) : stored;
            values[i] = modality * slope + intercept;
        }
        return new DicomFile(values, rows, columns, photometric == "MONOCHROME1", window, patient, instance, label);
    }

    /// <summary>A "gggg,eeee" tag (hexadecimal, as DICOM writes them; brackets allowed).</summary>
    public static gdcm.Tag ParseTag(string text)
    {
        var parts = text.Trim().Trim('(', ')').Split(',');
        if (
            parts.Length != 2
            || !ushort.TryParse(parts[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var group)
            || !ushort.TryParse(parts[1].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var element)
        )
            throw new FormatException($"'{text}' is not a DICOM tag; write it as gggg,eeee, e.g. 0018,0015.");
        return new gdcm.Tag(group, element);
    }

    /// <summary>
    /// Whether the file starts like a DICOM Part 10 file: 128 bytes of preamble, then "DICM". A file that cannot be
    /// read (gone since it was listed, not readable) is not.
    /// </summary>
    public static bool HasDicomPreamble(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            if (file.Length < 132)
                return false;
            Span<byte> magic = stackalloc byte[4];
            file.Position = 128;
            file.ReadExactly(magic);
            return magic.SequenceEqual("DICM"u8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static byte[] DecodePixels(string path, string transferSyntax, long expectedBytes)
    {
        using var reader = new gdcm.ImageReader();
        reader.SetFileName(path);
        if (!reader.Read())
            throw new InvalidDataException($"has pixel data GDCM cannot read ({transferSyntax}).");
        var image = reader.GetImage();
        var length = (long)image.GetBufferLength();
        if (length < expectedBytes)
            throw new InvalidDataException($"holds {length} bytes of pixels; its header declares {expectedBytes}.");
        var buffer = new byte[length];
        if (!image.GetBuffer(buffer))
            throw new InvalidDataException($"has pixel data GDCM cannot decode (transfer syntax {transferSyntax}).");
        return buffer;
    }

    /// <summary>The transfer syntax UID in the file meta group, read by hand where GDCM cannot read the file.</summary>
    private static string? MetaTransferSyntax(string path)
    {
        var head = new byte[Math.Min(4096, new FileInfo(path).Length)];
        using (var file = File.OpenRead(path))
            file.ReadExactly(head);
        // (0002,0010) UI, explicit little endian as the meta group always is: tag, "UI", 2-byte length, value.
        ReadOnlySpan<byte> tag = [0x02, 0x00, 0x10, 0x00, (byte)'U', (byte)'I'];
        var at = head.AsSpan().IndexOf(tag);
        if (at < 0 || at + 8 > head.Length)
            return null;
        var length = BitConverter.ToUInt16(head, at + 6);
        return at + 8 + length > head.Length ? null : Encoding.ASCII.GetString(head, at + 8, length).Trim('\0', ' ');
    }
}
