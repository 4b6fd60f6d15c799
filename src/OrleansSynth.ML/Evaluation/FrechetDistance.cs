using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Evaluation;

/// <summary>
/// Fréchet distance between Gaussians fitted to two feature sets (the FID formula with our own feature extractor):
/// |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)).
/// </summary>
public static class FrechetDistance
{
    /// <param name="a">[N, D] features.</param>
    /// <param name="b">[M, D] features.</param>
    public static double Compute(Tensor a, Tensor b)
    {
        if (a.dim() != 2 || b.dim() != 2 || a.shape[1] != b.shape[1])
            throw new ArgumentException("Features must be [N, D] with the same D.");
        if (a.shape[0] < 2 || b.shape[0] < 2)
            throw new ArgumentException("Each feature set needs at least 2 rows.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (x, y) = (a.to_type(float64), b.to_type(float64));
        var (muA, muB) = (x.mean([0]), y.mean([0]));
        var (covA, covB) = (Covariance(x, muA), Covariance(y, muB));
        // Tr((S_a S_b)^(1/2)) = sum of sqrt(eigenvalues) of S_a^(1/2) S_b S_a^(1/2), which is symmetric PSD.
        var rootA = SymmetricSqrt(covA);
        var middle = rootA.matmul(covB).matmul(rootA);
        middle = middle.Plus(middle.t()).DividedBy(2);
        var traceRoot = linalg.eigvalsh(middle).ClampMin(0).sqrt().sum();
        var distance = (muA - muB).Squared().sum().Plus(covA.trace()).Plus(covB.trace()) - traceRoot.Times(2);
        return Math.Max(0, distance.item<double>());
    }

    private static Tensor Covariance(Tensor x, Tensor mean)
    {
        var centred = x - mean;
        return centred.t().matmul(centred).DividedBy(x.shape[0] - 1);
    }

    private static Tensor SymmetricSqrt(Tensor matrix)
    {
        var (values, vectors) = linalg.eigh(matrix);
        return vectors.matmul(diag(values.ClampMin(0).sqrt())).matmul(vectors.t());
    }
}
