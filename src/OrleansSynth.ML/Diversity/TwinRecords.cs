namespace OrleansSynth.ML.Diversity;

/// <summary>Which real training records a diversity-aware job twins: <c>count</c> of them spread evenly over the
/// split.</summary>
public static class TwinRecords
{
    // Evenly spaced rather than the first N, so a split stored sorted by class or site is still covered.
    public static int RecordIndex(int position, int count, int trainingCount)
    {
        if (count > trainingCount)
            throw new ArgumentException($"Cannot twin {count} records of a {trainingCount}-record training split.");
        return (int)((long)position * trainingCount / count);
    }
}
