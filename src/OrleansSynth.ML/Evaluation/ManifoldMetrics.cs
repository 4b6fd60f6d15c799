using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Evaluation;

/// <summary>
/// Precision and recall (Kynkäänniemi et al. 2019) and coverage (Naeem et al. 2020) of synthetic features against
/// real ones, with k-nearest-neighbour balls: precision asks how much of the synthetic set lies on the real
/// manifold, recall how much of the real manifold the synthetic set reaches, coverage how many real records have a
/// synthetic sample inside their own neighbourhood.
/// </summary>
public sealed record ManifoldMetrics(double Precision, double Recall, double Coverage, int K)
{
    public static ManifoldMetrics Compute(Tensor real, Tensor synthetic, int k = 5)
    {
        if (real.shape[0] <= k || synthetic.shape[0] <= k)
            throw new ArgumentException($"Both sets need more than k = {k} rows.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var realRadii = KthNeighbourDistance(real, k);
        var syntheticRadii = KthNeighbourDistance(synthetic, k);
        var toReal = cdist(synthetic, real); // [M, N]
        var precision = (toReal <= realRadii.unsqueeze(0)).any(1).to_type(float64).mean().item<double>();
        var recall = (toReal.t() <= syntheticRadii.unsqueeze(0)).any(1).to_type(float64).mean().item<double>();
        var coverage = (toReal.min(0).values <= realRadii).to_type(float64).mean().item<double>();
        return new ManifoldMetrics(precision, recall, coverage, k);
    }

    /// <summary>Distance from every row to its k-th nearest other row.</summary>
    private static Tensor KthNeighbourDistance(Tensor x, int k)
    {
        var distances = cdist(x, x);
        // The smallest distance is the row to itself (0); the (k+1)-th smallest is the k-th neighbour.
        return distances.kthvalue(k + 1, 1).values;
    }
}
