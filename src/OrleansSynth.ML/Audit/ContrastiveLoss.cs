using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Supervised contrastive loss (Khosla et al. 2020) over unit-norm embeddings: every pair with the same group id
/// (same record, or same patient) is a positive, every other pair in the batch a negative. With one group per
/// record and two views each it reduces to SimCLR's NT-Xent.
/// </summary>
public static class ContrastiveLoss
{
    public static Tensor Compute(Tensor embeddings, Tensor groups, double temperature)
    {
        using var scope = NewDisposeScope();
        var n = embeddings.shape[0];
        var logits = matmul(embeddings, embeddings.t()).DividedBy(temperature);
        var self = eye(n, dtype: ScalarType.Bool, device: embeddings.device);
        logits = logits.MaskedFill(self, double.NegativeInfinity);
        var positives = groups.unsqueeze(0).eq(groups.unsqueeze(1)).logical_and(self.logical_not());
        var logProbabilities = logits.log_softmax(1).MaskedFill(self, 0.0);
        var perAnchor = (logProbabilities * positives).sum(1) / positives.sum(1).ClampMin(1);
        return (-perAnchor.mean()).MoveToOuterDisposeScope();
    }
}
