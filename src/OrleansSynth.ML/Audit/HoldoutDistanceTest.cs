using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Are synthetic samples closer to the training records than to real records nobody trained on? Each sample's
/// nearest similarity to a random set of training records is compared with its nearest similarity to the holdout
/// (control) records, of the same size, so set size favours neither. Without memorisation about half the samples are
/// closer to the training side; the excess over one half is the effect, with its interval and an exact two-sided
/// binomial p-value.
/// </summary>
public static class HoldoutDistanceTest
{
    public static HoldoutDistanceResult Run(Tensor synthetic, Tensor training, Tensor holdout, ulong seed = 31)
    {
        var holdoutCount = (int)holdout.shape[0];
        var trainingCount = (int)training.shape[0];
        var size = Math.Min(holdoutCount, trainingCount);
        var order = Enumerable.Range(0, trainingCount).ToArray();
        new Random(unchecked((int)seed)).Shuffle(order);
        using var indices = tensor(order.Take(size).Select(i => (long)i).ToArray());
        using var trainingSample = training.index_select(0, indices);
        using var holdoutSample = holdout.narrow(0, 0, size);
        var nearTraining = PairwiseScan.Run(synthetic, trainingSample, k: 1);
        var nearHoldout = PairwiseScan.Run(synthetic, holdoutSample, k: 1);
        var n = (int)synthetic.shape[0];
        var closer = 0;
        var ties = 0;
        for (var i = 0; i < n; i++)
        {
            var (t, h) = (nearTraining.BestScore(i), nearHoldout.BestScore(i));
            if (t > h)
                closer++;
            else if (t == h)
                ties++;
        }
        // A tie counts for neither side: it is dropped from the test, as in a sign test.
        var trials = n - ties;
        var share = Proportion.Wilson(closer, trials);
        return new HoldoutDistanceResult(
            size,
            n,
            ties,
            share,
            share.Rate - 0.5,
            share.Lower - 0.5,
            share.Upper - 0.5,
            BinomialTwoSidedP(closer, trials)
        );
    }

    /// <summary>Exact two-sided p-value of k successes in n fair trials: the probability of an outcome no more likely
    /// than k.</summary>
    public static double BinomialTwoSidedP(int k, int n)
    {
        if (n == 0)
            return 1;
        var logPmf = new double[n + 1];
        var logFactorial = new double[n + 1];
        for (var i = 1; i <= n; i++)
            logFactorial[i] = logFactorial[i - 1] + Math.Log(i);
        for (var i = 0; i <= n; i++)
            logPmf[i] = logFactorial[n] - logFactorial[i] - logFactorial[n - i] - n * Math.Log(2);
        var observed = logPmf[k] + 1e-9;
        return Math.Min(1, logPmf.Where(l => l <= observed).Sum(Math.Exp));
    }
}

/// <param name="SetSize">Records on each side: the holdout set and an equally large random set of training
/// records.</param>
/// <param name="CloserToTraining">Share of samples (ties dropped) nearer a training record than any holdout record,
/// with its 95% interval.</param>
/// <param name="Excess">That share minus one half: 0 when synthetic samples are no closer to training than to holdout
/// records.</param>
public sealed record HoldoutDistanceResult(
    int SetSize,
    int Samples,
    int Ties,
    Proportion CloserToTraining,
    double Excess,
    double ExcessLower,
    double ExcessUpper,
    double PValue
);
