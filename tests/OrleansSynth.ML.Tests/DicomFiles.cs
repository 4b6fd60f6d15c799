using System.Diagnostics;
using System.Globalization;
using System.Text;
using OrleansSynth.ML.Data;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// Writes DICOM files with a real DICOM tool, dcmtk's dump2dcm (independent of GDCM, which reads them): a text dump
/// of the tags and the 16-bit pixels from a raw file, written as explicit VR little endian.
/// </summary>
public static class DicomFiles
{
    /// <summary>Tag values the labelled folders carry that must never leave the silos.</summary>
    public static readonly string[] TagValues =
    [
        "Doe^Jane",
        "19450317",
        "St Elsewhere General",
        "ACC-778899",
        "1.2.826.0.1.3680043.10.543",
    ];

    /// <summary>
    /// Writes <paramref name="count"/> images of <paramref name="source"/> into <paramref name="folder"/> as 12-bit
    /// DICOM files, <paramref name="perPatient"/> per patient: even ones MONOCHROME2 without rescale and labelled by
    /// SOP Instance UID in labels.csv, odd ones MONOCHROME1 with slope 2 and intercept -1024, labelled by file name.
    /// Each file's window maps its values back to the original bytes exactly. Returns the folder.
    /// </summary>
    public static string WriteLabelledFolder(string folder, ImageDataset source, int count, int perPatient)
    {
        var labels = new List<string> { "sop_instance_uid,file_name,label" };
        for (var i = 0; i < count; i++)
        {
            var bytes = source.ImageAt(i).ToArray();
            var monochrome1 = i % 2 == 1;
            var stored = bytes.Select(b => (ushort)(monochrome1 ? 4080 - b * 16 : b * 16)).ToArray();
            var uid = $"{TagValues[4]}.{i}";
            var tags = new Dictionary<string, (string, string?)>
            {
                ["0008,0018"] = ("UI", uid),
                ["0008,0050"] = ("SH", $"{TagValues[3]}{i}"),
                ["0008,0080"] = ("LO", TagValues[2]),
                ["0010,0010"] = ("PN", $"{TagValues[0]}{i / perPatient}"),
                ["0010,0020"] = ("LO", $"PAT-{i / perPatient}"),
                ["0010,0030"] = ("DA", TagValues[1]),
                ["0028,0004"] = ("CS", monochrome1 ? "MONOCHROME1" : "MONOCHROME2"),
                ["0028,1050"] = ("DS", monochrome1 ? "3056" : "2040"),
                ["0028,1051"] = ("DS", monochrome1 ? "8160" : "4080"),
            };
            if (monochrome1)
            {
                tags["0028,1052"] = ("DS", "-1024");
                tags["0028,1053"] = ("DS", "2");
            }
            DicomFiles.Write(Path.Combine(folder, $"img-{i:D2}.dcm"), stored, 28, 28, tags);
            labels.Add(monochrome1 ? $",img-{i:D2}.dcm,{source.Labels[i]}" : $"{uid},,{source.Labels[i]}");
        }
        File.WriteAllLines(Path.Combine(folder, "labels.csv"), labels);
        File.WriteAllText(Path.Combine(folder, "dataset.yaml"), "labels: labels.csv\nimageSize: 28\n");
        return folder;
    }

    /// <summary>The tags every image gets; <paramref name="tags"/> adds to them or, with a null value, removes
    /// one.</summary>
    public static void Write(
        string path,
        ushort[] pixels,
        int rows,
        int columns,
        IReadOnlyDictionary<string, (string Vr, string? Value)> tags
    )
    {
        var all = new SortedDictionary<string, (string Vr, string? Value)>(StringComparer.Ordinal)
        {
            ["0008,0016"] = ("UI", "1.2.840.10008.5.1.4.1.1.7"),
            ["0028,0002"] = ("US", "1"),
            ["0028,0004"] = ("CS", "MONOCHROME2"),
            ["0028,0010"] = ("US", $"{rows}"),
            ["0028,0011"] = ("US", $"{columns}"),
            ["0028,0100"] = ("US", "16"),
            ["0028,0101"] = ("US", "12"),
            ["0028,0102"] = ("US", "11"),
            ["0028,0103"] = ("US", "0"),
        };
        foreach (var (tag, value) in tags)
            all[tag] = value;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var raw = path + ".raw";
        var dump = path + ".dump";
        File.WriteAllBytes(raw, pixels.SelectMany(BitConverter.GetBytes).ToArray());
        var text = new StringBuilder();
        foreach (var (tag, (vr, value)) in all.Where(t => t.Value.Value is not null))
            text.AppendLine(CultureInfo.InvariantCulture, $"({tag}) {vr} {(vr == "US" ? value : $"[{value}]")}");
        text.AppendLine(CultureInfo.InvariantCulture, $"(7fe0,0010) OW ={raw}");
        File.WriteAllText(dump, text.ToString());
        try
        {
            Run("dump2dcm", "+te", dump, path);
        }
        finally
        {
            File.Delete(raw);
            File.Delete(dump);
        }
    }

    /// <summary>The kinds of bad folder <see cref="WriteBadFolder"/> writes.</summary>
    public static readonly string[] BadKinds =
    [
        "not-dicom",
        "unknown-transfer-syntax",
        "multi-frame",
        "huge",
        "no-patient",
    ];

    /// <summary>A folder with one good file and one bad one of <paramref name="kind"/>; returns the bad file's
    /// name.</summary>
    public static string WriteBadFolder(string folder, string kind)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "dataset.yaml"), "labelTag: \"0018,0015\"\nimageSize: 8\n");
        var pixels = new ushort[8 * 8];
        Dictionary<string, (string, string?)> Tags(string patient) =>
            new() { ["0010,0020"] = ("LO", patient), ["0018,0015"] = ("CS", "CHEST") };
        Write(Path.Combine(folder, "a-good.dcm"), pixels, 8, 8, Tags("PAT-1"));
        var bad = Path.Combine(folder, "b-bad.dcm");
        switch (kind)
        {
            case "not-dicom":
                File.WriteAllText(bad, "not a DICOM file\n");
                break;
            case "unknown-transfer-syntax":
                Write(bad, pixels, 8, 8, Tags("PAT-2"));
                ForgeTransferSyntax(bad, "1.2.840.10008.1.2.9");
                break;
            case "multi-frame":
                Write(
                    bad,
                    [.. pixels, .. pixels],
                    8,
                    8,
                    new Dictionary<string, (string, string?)>(Tags("PAT-2")) { ["0028,0008"] = ("IS", "2") }
                );
                break;
            case "huge":
                // The header claims 60000 x 60000 pixels (7 GB at 16 bits); the file holds 128 bytes of them.
                Write(bad, pixels, 60000, 60000, Tags("PAT-2"));
                break;
            case "no-patient":
                Write(
                    bad,
                    pixels,
                    8,
                    8,
                    Tags("PAT-2").ToDictionary(t => t.Key, t => t.Key == "0010,0020" ? ("LO", (string?)null) : t.Value)
                );
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
        return Path.GetFileName(bad);
    }

    private static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"{program} did not start (apt-get install dcmtk).");
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {errors}"
            );
    }

    /// <summary>Replaces the file meta group's transfer syntax UID (1.2.840.10008.1.2.1) with another of its
    /// length.</summary>
    public static void ForgeTransferSyntax(string path, string uid)
    {
        var bytes = File.ReadAllBytes(path);
        var explicitLittle = "1.2.840.10008.1.2.1\0"u8.ToArray();
        var at = bytes.AsSpan().IndexOf(explicitLittle);
        if (at < 0 || uid.Length + 1 != explicitLittle.Length)
            throw new ArgumentException("cannot forge this file or UID");
        Encoding.ASCII.GetBytes(uid + "\0").CopyTo(bytes, at);
        File.WriteAllBytes(path, bytes);
    }
}
