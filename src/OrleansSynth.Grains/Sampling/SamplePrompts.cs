using OrleansSynth.ML.Data;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Grains.Sampling;

/// <summary>
/// The prompt of every sample of a text model's job, computed the same way by every shard: the report of a training
/// record of the sample's label, drawn by the job's seed and the sample's global index. Labels already follow the
/// training split's proportions, so the prompts do too. A label without reports gets the null prompt.
/// </summary>
public static class SamplePrompts
{
    /// <param name="labels">The labels of samples <paramref name="start"/>, <paramref name="start"/> + 1, and so
    /// on.</param>
    public static string?[] For(ImageDataset training, IReadOnlyList<long> labels, int start, long seed)
    {
        var reports = training.Reports ?? throw new ArgumentException($"{training.Name} has no reports.");
        var byLabel = Enumerable
            .Range(0, training.Count)
            .Where(i => !string.IsNullOrEmpty(reports[i]))
            .GroupBy(i => training.Labels[i])
            .ToDictionary(g => g.Key, g => g.ToArray());
        return labels
            .Select(
                (label, offset) =>
                    byLabel.TryGetValue(label, out var records)
                        ? reports[records[(int)(SeedMixer.Mix(seed, start + offset) % (ulong)records.Length)]]
                        : null
            )
            .ToArray();
    }
}
