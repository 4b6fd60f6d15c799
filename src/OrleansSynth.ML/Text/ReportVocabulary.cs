namespace OrleansSynth.ML.Text;

/// <summary>
/// The tokens a shared text model may know: those in the reports of at least <see cref="MinimumReports"/> patients
/// (where the data names patients), else of as many distinct reports. A word of a few reports (a name, an accession
/// number, a rare finding) is read as unknown, so no weight of a released model depends on it. What the set shows is
/// the vocabulary many reports share.
/// </summary>
public static class ReportVocabulary
{
    public const int MinimumReports = 10;

    /// <param name="patientIds">Each record's patient, where known: a patient's reports count once together.</param>
    public static int[] KnownTokens(
        IReadOnlyList<string?> reports,
        IReadOnlyList<string?>? patientIds = null,
        int minimum = MinimumReports
    )
    {
        var byPatient = patientIds is not null && patientIds.All(p => !string.IsNullOrEmpty(p));
        var holders = new Dictionary<int, HashSet<string>>();
        for (var i = 0; i < reports.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(reports[i]))
                continue;
            var holder = byPatient ? patientIds![i]! : reports[i]!;
            foreach (var token in ReportTokenizer.Encode(reports[i]!))
                (holders.TryGetValue(token, out var set) ? set : holders[token] = []).Add(holder);
        }
        return holders.Where(h => h.Value.Count >= minimum).Select(h => h.Key).Order().ToArray();
    }
}
