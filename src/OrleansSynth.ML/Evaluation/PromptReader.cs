using OrleansSynth.ML.Data;
using OrleansSynth.ML.Text;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Evaluation;

/// <summary>
/// Reads prompts through the real training images, for free text and with no joint image-text model: an image's
/// prompt is followed as far as the reports of its <c>k</c> nearest real training images (Euclidean, pixels pooled to
/// at most 16 x 16: brightness, extent and coarse texture stay) hold the prompt's words. Words are the tokens a shared
/// model may know (<see cref="ReportVocabulary"/>: those of at least ten patients' reports, or ten distinct reports
/// where the data name no patients), so a word of one patient's reports is never read. The training side (pooled
/// images, each record's words) is prepared once for every set scored.
/// </summary>
public sealed class PromptReader : IDisposable
{
    public const int DefaultNeighbours = 10;
    private const int PooledSide = 16;
    private const int BaselineDraws = 8;
    private const int RowsPerBatch = 256;

    private readonly Tensor _pooled;
    private readonly HashSet<int> _words;
    private readonly int[][] _recordWords;
    private readonly Dictionary<long, int[]> _recordsByLabel;
    private readonly int _neighbours;
    private readonly Device _device;

    private PromptReader(ImageDataset training, Device device, int neighbours)
    {
        (_device, _neighbours) = (device, neighbours);
        _words = ReportVocabulary
            .KnownTokens(training.Reports!, training.HasPatientIds ? training.PatientIds : null)
            .ToHashSet();
        _recordWords = training.Reports!.Select(WordsOf).ToArray();
        _recordsByLabel = Enumerable
            .Range(0, training.Count)
            .Where(i => _recordWords[i].Length > 0)
            .GroupBy(i => training.Labels[i])
            .ToDictionary(g => g.Key, g => g.ToArray());
        _pooled = Pooled(training, device);
    }

    /// <summary>A reader of <paramref name="training"/>'s reports; null where it has none, or too few records to
    /// have <paramref name="neighbours"/> neighbours.</summary>
    public static PromptReader? For(ImageDataset training, Device device, int neighbours = DefaultNeighbours) =>
        training.HasReports && training.Count > neighbours ? new PromptReader(training, device, neighbours) : null;

    /// <param name="prompted">Images with their prompts in <see cref="ImageDataset.Reports"/>: samples, or held-out
    /// real images with their own reports.</param>
    /// <returns>Null when fewer than <see cref="ReportVocabulary.MinimumReports"/> images could be scored: fewer
    /// would come near describing single reports.</returns>
    public PromptAgreement? Score(ImageDataset prompted, int seed = 0)
    {
        var prompts = prompted.Reports ?? throw new ArgumentException($"{prompted.Name} has no prompts.");
        var nearest = NearestRecords(prompted);
        var random = new Random(seed);
        var (own, sameLabel, scored) = (0.0, 0.0, 0);
        for (var i = 0; i < prompted.Count; i++)
        {
            var words = WordsOf(prompts[i]);
            if (words.Length == 0 || !_recordsByLabel.TryGetValue(prompted.Labels[i], out var sameLabelRecords))
                continue;
            own += Share(words, nearest[i]);
            // Prompts drawn as the pipeline draws them: the report of a training record of the label.
            for (var d = 0; d < BaselineDraws; d++)
                sameLabel += Share(_recordWords[sameLabelRecords[random.Next(sameLabelRecords.Length)]], nearest[i]);
            scored++;
        }
        return scored < ReportVocabulary.MinimumReports
            ? null
            : new PromptAgreement(
                scored,
                _neighbours,
                Math.Round(own / scored, 3),
                Math.Round(sameLabel / BaselineDraws / scored, 3)
            );
    }

    public void Dispose() => _pooled.Dispose();

    private int[] WordsOf(string? text) =>
        string.IsNullOrWhiteSpace(text)
            ? []
            : ReportTokenizer.Encode(text).Where(_words.Contains).Distinct().Order().ToArray();

    /// <summary>The mean, over <paramref name="words"/>, of the share of the neighbours whose report holds the
    /// word.</summary>
    private double Share(int[] words, int[] neighbours)
    {
        var total = 0.0;
        foreach (var word in words)
            total += neighbours.Count(n => Array.BinarySearch(_recordWords[n], word) >= 0) / (double)neighbours.Length;
        return total / words.Length;
    }

    private int[][] NearestRecords(ImageDataset prompted)
    {
        using var noGrad = no_grad();
        using var query = Pooled(prompted, _device);
        var nearest = new int[prompted.Count][];
        for (var start = 0; start < prompted.Count; start += RowsPerBatch)
        {
            using var scope = NewDisposeScope();
            var rows = query.narrow(0, start, Math.Min(RowsPerBatch, prompted.Count - start));
            var columns = cdist(rows, _pooled)
                .topk(_neighbours, dim: 1, largest: false)
                .indexes.cpu()
                .data<long>()
                .ToArray();
            for (var r = 0; r < rows.shape[0]; r++)
                nearest[start + r] = columns.Skip(r * _neighbours).Take(_neighbours).Select(c => (int)c).ToArray();
        }
        return nearest;
    }

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
            rows.Add(nn.functional.adaptive_avg_pool2d(images, [side, side]).flatten(1).MoveToOuterDisposeScope());
        }
        var all = cat(rows, 0);
        foreach (var r in rows)
            r.Dispose();
        return all;
    }
}
