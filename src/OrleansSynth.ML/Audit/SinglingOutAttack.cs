using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Singling-out risk after Anonymeter's procedure (Giomi et al. 2023), with the re-identification threshold as the
/// predicate: each synthetic sample s is a query "records whose similarity to s exceeds the threshold", and the query
/// singles out when exactly one record of a set matches it. The attack runs on the whole training set and on the
/// control set (real records nobody trained on); the control's success is corrected for its smaller size by
/// Anonymeter's fit of the singling-out probability n·w·(1-w)^(n-1) over subsamples of the control; the risk is
/// the training success in excess of the control's, over what is left to gain, with Anonymeter's propagated interval.
/// </summary>
public static class SinglingOutAttack
{
    /// <param name="trainingMatches">Top-k (k at least 2) of every query against the whole training set.</param>
    /// <param name="queries">The synthetic embeddings, one row per query, in the rows of <paramref
    /// name="trainingMatches"/>.</param>
    public static SinglingOutRisk Run(
        TopKMatches trainingMatches,
        int queryCount,
        int trainingCount,
        Tensor queries,
        Tensor control,
        float threshold,
        ulong seed = 29
    )
    {
        if (trainingMatches.K < 2)
            throw new ArgumentException("Singling out needs the top 2 matches of every query.");
        var trainingSuccesses = Enumerable
            .Range(0, queryCount)
            .Count(i =>
                trainingMatches.Scores[i * trainingMatches.K] > threshold
                && trainingMatches.Scores[i * trainingMatches.K + 1] <= threshold
            );

        var controlCount = (int)control.shape[0];
        var matches = ControlMatches(queries.narrow(0, 0, queryCount), control, threshold);
        var controlSuccesses = matches.Count(m => m.Length == 1);
        var correction = 1.0;
        if (controlCount != trainingCount && controlSuccesses > 0)
        {
            var model = SizeModel.Fit(matches, controlCount, seed);
            correction = model.Expected(trainingCount) / model.Expected(controlCount);
        }
        var correctedControl = Math.Min(queryCount, controlSuccesses * correction);

        var attack = SuccessRate.Of(trainingSuccesses, queryCount);
        var baseline = SuccessRate.Of(correctedControl, queryCount);
        var residual = (attack.Value - baseline.Value) / (1 - baseline.Value);
        var error = Math.Sqrt(
            Math.Pow(attack.Error / Math.Abs(1 - baseline.Value), 2)
                + Math.Pow(baseline.Error * (attack.Value - 1) / Math.Pow(1 - baseline.Value, 2), 2)
        );
        return new SinglingOutRisk(
            queryCount,
            trainingSuccesses,
            controlSuccesses,
            correction,
            attack.Value,
            baseline.Value,
            residual,
            Math.Clamp(residual, 0, 1),
            Math.Clamp(residual - error, 0, 1),
            Math.Clamp(residual + error, 0, 1),
            trainingCount,
            controlCount
        );
    }

    /// <summary>For each query, the control records above the threshold (few: the threshold flags about alpha of unseen
    /// images).</summary>
    private static int[][] ControlMatches(Tensor queries, Tensor control, float threshold, int tile = 1024)
    {
        var count = (int)queries.shape[0];
        var result = new List<int>[count];
        for (var i = 0; i < count; i++)
            result[i] = [];
        using Scalar heldThreshold = threshold;
        for (var start = 0; start < count; start += tile)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var rows = Math.Min(tile, count - start);
            var above = mm(queries.narrow(0, start, rows), control.t()).gt(heldThreshold).nonzero();
            if (above.numel() == 0)
                continue;
            var hits = above.cpu().data<long>().ToArray();
            for (var h = 0; h < hits.Length; h += 2)
                result[start + (int)hits[h]].Add((int)hits[h + 1]);
        }
        return result.Select(r => r.ToArray()).ToArray();
    }

    /// <summary>Anonymeter's success rate: the Wilson centre and half-width at 95%.</summary>
    private readonly record struct SuccessRate(double Value, double Error)
    {
        private const double Z = 1.959964;

        public static SuccessRate Of(double successes, int total)
        {
            if (total == 0)
                return new SuccessRate(0, 1);
            var denominator = total + Z * Z;
            var variance = successes * (total - successes) / total;
            return new SuccessRate(
                (successes + 0.5 * Z * Z) / denominator,
                Z / denominator * Math.Sqrt(variance + 0.25 * Z * Z)
            );
        }
    }

    /// <summary>
    /// How many queries single out by chance in a set of n records: norm × ∫₀^w n·v·(1-v)^(n-1) dv, fitted to the
    /// successes on random subsamples of the control (Anonymeter's <c>fit_correction_term</c>).
    /// </summary>
    private sealed record SizeModel(double Weight, double Norm)
    {
        public double Expected(int n) => Norm * Integral(n, Weight);

        private static double Integral(int n, double w) => (1 - (n * w + 1) * Math.Pow(1 - w, n)) / (n + 1);

        public static SizeModel Fit(int[][] matches, int controlCount, ulong seed)
        {
            var random = new Random(unchecked((int)seed));
            var sizes = new List<int>();
            var successes = new List<double>();
            var smallest = Math.Min(1000, controlCount);
            for (var m = 0; m < 10; m++)
            {
                var size = (int)(smallest + (controlCount - smallest) * m / 9.0);
                for (var repeat = 0; repeat < 5; repeat++)
                {
                    var order = Enumerable.Range(0, controlCount).ToArray();
                    random.Shuffle(order);
                    var inSample = new bool[controlCount];
                    foreach (var index in order.AsSpan(0, size))
                        inSample[index] = true;
                    sizes.Add(size);
                    successes.Add(matches.Count(q => q.Count(i => inSample[i]) == 1));
                }
            }
            // For a fixed weight the best norm is a least-squares ratio; the weight is searched on a log grid, then
            // refined.
            (double Loss, SizeModel Model) Best(double w)
            {
                var f = sizes.Select(n => Integral(n, w)).ToArray();
                var ff = f.Sum(v => v * v);
                var norm = ff == 0 ? 0 : f.Zip(successes, (a, b) => a * b).Sum() / ff;
                return (f.Zip(successes, (a, b) => (norm * a - b) * (norm * a - b)).Sum(), new SizeModel(w, norm));
            }
            var best = Enumerable.Range(0, 181).Select(i => Best(Math.Pow(10, -9 + i * 0.05))).MinBy(r => r.Loss);
            for (var step = 0.025; step > 1e-4; step /= 2)
            {
                var logW = Math.Log10(best.Model.Weight);
                foreach (var candidate in new[] { logW - step, logW + step })
                    if (candidate <= 0 && Best(Math.Pow(10, candidate)) is var r && r.Loss < best.Loss)
                        best = r;
            }
            return best.Model;
        }
    }
}

/// <summary>
/// The result of <see cref="SinglingOutAttack"/>. Rates are Anonymeter's (Wilson centres); <see cref="Risk"/> and its
/// interval are bounded to [0, 1] as Anonymeter reports them; <see cref="Residual"/> is the unbounded value.
/// </summary>
/// <param name="Attacks">Queries: one per synthetic sample.</param>
/// <param name="TrainingSuccesses">Queries that single out exactly one record of the whole training set.</param>
/// <param name="ControlSuccesses">Queries that single out exactly one control record, before the size
/// correction.</param>
/// <param name="ControlSizeCorrection">Factor from the control's size to the training set's size (1 when they are
/// equal).</param>
public sealed record SinglingOutRisk(
    int Attacks,
    int TrainingSuccesses,
    int ControlSuccesses,
    double ControlSizeCorrection,
    double TrainingRate,
    double ControlRate,
    double Residual,
    double Risk,
    double Lower,
    double Upper,
    int TrainingRecords,
    int ControlRecords
);
