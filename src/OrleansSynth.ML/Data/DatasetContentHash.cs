using System.Security.Cryptography;
using System.Text;

namespace OrleansSynth.ML.Data;

/// <summary>
/// The identity of a loaded split: SHA-256 over every image's bytes, label, record id, patient id and report, in order.
/// Any changed pixel, label, order, patient assignment or report changes it.
/// </summary>
public static class DatasetContentHash
{
    public static string Of(ImageDataset data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{data.Count}:{data.Channels}x{data.Height}x{data.Width}\n"));
        foreach (var segment in data.Pixels.Segments())
            hash.AppendData(segment.Span);
        for (var i = 0; i < data.Count; i++)
            hash.AppendData(Encoding.UTF8.GetBytes($"{data.Labels[i]}\t{data.RecordIds[i]}\t{data.PatientIds?[i]}\n"));
        // Only when there are reports, so a dataset without them keeps the identity it was registered with; each with
        // its length, so no report can pass for two.
        if (data.Reports is { } reports)
            foreach (var report in reports)
                hash.AppendData(Encoding.UTF8.GetBytes($"report\t{report?.Length ?? -1}\t{report}\n"));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
