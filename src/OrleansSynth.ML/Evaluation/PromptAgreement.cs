using OrleansSynth.ML.Data;
using OrleansSynth.ML.Text;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Evaluation;

/// <summary>
/// How well images follow their prompts, with free text and no joint image-text model: a nearest-neighbour reader
/// of the real training images. For each image, the share of its <c>k</c> nearest real training images (in pixels,
/// pooled to at most 16 x 16) whose reports hold each word of its prompt, averaged over the prompt's words
/// (<see cref="Own"/>); and the same for prompts drawn at random from the reports of its label
/// (<see cref="SameLabel"/>). An image that follows its label and nothing more of its prompt scores the same on
/// both; the lift is what the rest of the prompt adds. Words are the tokens of at least ten records' reports.
/// The measure is aggregate: it names no record and no word.
/// </summary>
/// <param name="Scored">Images whose prompt holds at least one shared word.</param>
public sealed record PromptAgreement(int Scored, int Neighbours, double Own, double SameLabel)
{
    public const int DefaultNeighbours = 10;
    private const int PooledSide = 16;
    private const int BaselineDraws = 8;
    private const int RowsPerBatch = 256;

    public double Lift => Own - SameLabel;

    /// <param name="training">The real training images and their reports: the reader.</param>
    /// <param name="prompted">Images with their prompts in <see cref="ImageDataset.Reports"/>: samples, or held-out
    /// real images with their own reports.</param>
    public static PromptAgreement Measure(
        ImageDataset training,
        ImageDataset prompted,
        Device device,
        int neighbours = DefaultNeighbours,
        int seed = 0
    )
    {
        var reports = training.Reports ?? throw new ArgumentException($"{training.Name} has no reports.");
        var prompts = prompted.Reports ?? throw new ArgumentException($"{prompted.Name} has no prompts.");
        if (training.Count <= neighbours)
            throw new ArgumentException($"{training.Name} needs more than {neighbours} records.");
        var words = SharedWords(training);
        var recordWords = reports.Select(r => WordsOf(r, words)).ToArray();
        var byLabel = Enumerable
            .Range(0, training.Count)
            .Where(i => recordWords[i].Length > 0)
            .GroupBy(i => training.Labels[i])
            .ToDictionary(g => g.Key, g => g.ToArray());
        var nearest = NearestRecords(training, prompted, neighbours, device);
        var random = new Random(seed);
        var (own, sameLabel, scored) = (0.0, 0.0, 0);
        for (var i = 0; i < prompted.Count; i++)
        {
            var promptWords = WordsOf(prompts[i], words);
            if (promptWords.Length == 0 || !byLabel.TryGetValue(prompted.Labels[i], out var sameLabelRecords))
                continue;
            var holders = nearest[i];
            own += Share(promptWords, holders, recordWords);
            for (var d = 0; d < BaselineDraws; d++)
            {
                var other = sameLabelRecords[random.Next(sameLabelRecords.Length)];
                sameLabel += Share(recordWords[other], holders, recordWords) / BaselineDraws;
            }
            scored++;
        }
        return scored == 0
            ? new PromptAgreement(0, neighbours, double.NaN, double.NaN)
            : new PromptAgreement(scored, neighbours, own / scored, sameLabel / scored);
    }

    /// <summary>Tokens in the reports of at least <see cref="ReportVocabulary.MinimumReports"/> records: a rare
    /// word has too few holders to be read.</summary>
    private static HashSet<int> SharedWords(ImageDataset training) =>
        training
            .Reports!.Where(r => !string.IsNullOrWhiteSpace(r))
            .SelectMany(r => ReportTokenizer.Encode(r!).Distinct())
            .CountBy(token => token)
            .Where(c => c.Value >= ReportVocabulary.MinimumReports)
            .Select(c => c.Key)
            .ToHashSet();

    private static int[] WordsOf(string? text, HashSet<int> shared) =>
        string.IsNullOrWhiteSpace(text)
            ? []
            : ReportTokenizer.Encode(text).Where(shared.Contains).Distinct().Order().ToArray();

    /// <summary>The mean, over <paramref name="promptWords"/>, of the share of the neighbours whose report holds
    /// the word.</summary>
    private static double Share(int[] promptWords, int[] neighbours, int[][] recordWords)
    {
        var total = 0.0;
        foreach (var word in promptWords)
            total += neighbours.Count(n => Array.BinarySearch(recordWords[n], word) >= 0) / (double)neighbours.Length;
        return total / promptWords.Length;
    }

    /// <summary>Each prompted image's nearest training records by Euclidean distance of pooled pixels.</summary>
    private static int[][] NearestRecords(ImageDataset training, ImageDataset prompted, int k, Device device)
    {
        using var noGrad = no_grad();
        using var reference = Pooled(training, device);
        using var query = Pooled(prompted, device);
        var nearest = new int[prompted.Count][];
        for (var start = 0; start < prompted.Count; start += RowsPerBatch)
        {
            using var scope = NewDisposeScope();
            var rows = query.narrow(0, start, Math.Min(RowsPerBatch, prompted.Count - start));
            var columns = cdist(rows, reference).topk(k, dim: 1, largest: false).indexes.cpu().data<long>().ToArray();
            for (var r = 0; r < rows.shape[0]; r++)
                nearest[start + r] = columns.Skip(r * k).Take(k).Select(c => (int)c).ToArray();
        }
        return nearest;
    }

    /// <summary>Every image average-pooled to at most 16 x 16 and flattened: brightness, extent and coarse texture
    /// stay, noise and exact position matter less.</summary>
    private static Tensor Pooled(ImageDataset data, Device device)
    {
        var side = Math.Min(PooledSide, Math.Min(data.Height, data.Width));
        var rows = new List<Tensor>();
        for (var start = 0; start < data.Count; start += RowsPerBatch)
        {
            using var scope = NewDisposeScope();
            var indices = Enumerable.Range(start, Math.Min(RowsPerBatch, data.Count - start)).ToArray();
            var (images, labels) = data.Batch(indices, device);
            labels.Dispose();
            var pooled = nn.functional.adaptive_avg_pool2d(images, [side, side]).flatten(1);
            rows.Add(pooled.MoveToOuterDisposeScope());
        }
        var all = cat(rows, 0);
        foreach (var r in rows)
            r.Dispose();
        return all;
    }
}
