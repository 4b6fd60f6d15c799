namespace OrleansSynth.ML.Training;

/// <summary>Derives independent, process-stable seeds from a run seed and a counter (SplitMix64 finaliser).</summary>
public static class SeedMixer
{
    public static ulong Mix(long seed, long counter)
    {
        var z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)counter + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
