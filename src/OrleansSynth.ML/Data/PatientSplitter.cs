using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace OrleansSynth.ML.Data;

/// <summary>
/// Deterministic train/held-out splits. Where patient ids exist every image of a patient lands on the
/// same side, so no person is on both sides of an audit; otherwise records are split individually.
/// </summary>
public static class PatientSplitter
{
    public static (ImageDataset First, ImageDataset Second) Split(
        ImageDataset dataset,
        double secondFraction,
        ulong seed,
        string firstName,
        string secondName
    )
    {
        if (secondFraction is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(
                nameof(secondFraction),
                "The held-out fraction must be strictly between 0 and 1."
            );
        var first = new List<int>();
        var second = new List<int>();
        var byPatient = dataset.HasPatientIds;
        for (var i = 0; i < dataset.Count; i++)
        {
            var key = byPatient ? dataset.PatientIds![i]! : dataset.RecordIds[i];
            (Bucket(key, seed) < secondFraction ? second : first).Add(i);
        }
        return (dataset.Subset(first, firstName), dataset.Subset(second, secondName));
    }

    /// <summary>A uniform number in [0, 1) from the key and seed; stable across runs and machines.</summary>
    private static double Bucket(string key, ulong seed)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}:{key}"));
        return BinaryPrimitives.ReadUInt64LittleEndian(hash) / (ulong.MaxValue + 1.0);
    }
}
