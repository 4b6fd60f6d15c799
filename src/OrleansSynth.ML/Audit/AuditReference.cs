using OrleansSynth.ML.Data;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// The real side of an audit: the calibrated encoder, the training records with their cached embeddings, and
/// a control set of held-out real records (never trained on) with their nearest-training matches.
/// </summary>
public sealed class AuditReference : IDisposable
{
    public AuditReference(
        ReidentificationModel model,
        ImageDataset training,
        EmbeddingSet trainingEmbeddings,
        ImageDataset control,
        EmbeddingSet controlEmbeddings,
        PairVerifierModel? verifier = null,
        int heldOutNearCopies = 0
    )
    {
        if (
            trainingEmbeddings.EncoderFingerprint != model.Fingerprint
            || controlEmbeddings.EncoderFingerprint != model.Fingerprint
        )
            throw new ArgumentException("The embeddings were computed with a different encoder.");
        Model = model;
        Training = training;
        TrainingEmbeddings = trainingEmbeddings;
        Control = control;
        ControlEmbeddings = controlEmbeddings;
        Verifier = verifier;
        HeldOutNearCopies = heldOutNearCopies;
    }

    /// <summary>Held-out images left out of calibration and control as near-copies of a training record (the dataset's
    /// own copies).</summary>
    public int HeldOutNearCopies { get; }

    /// <summary>The calibrated second look that makes the verdicts; null: verdicts by the encoder's similarity
    /// alone.</summary>
    public PairVerifierModel? Verifier { get; }

    /// <summary>
    /// Whether each query is flagged, given its nearest training record under the encoder, that similarity and the
    /// contrast of its neighbourhood (<see cref="LinkRule.Contrast"/>): by the verifier when there is one, else by the
    /// encoder's <see cref="LinkRule"/>; and whatever the scores say when within <see cref="NearCopyTolerance"/> of its
    /// nearest record. Also returns the verifier's scores (null without one).
    /// </summary>
    public (bool[] Flagged, float[]? VerifierScores) Verdicts(
        ImageDataset queries,
        IReadOnlyList<int> nearest,
        IReadOnlyList<float> similarity,
        IReadOnlyList<float> contrast
    )
    {
        bool NearCopy(int i) => PixelDifference(queries.ImageAt(i), Training.ImageAt(nearest[i])) <= NearCopyTolerance;
        if (Verifier is { } verifier)
        {
            var scores = verifier.Scores(queries, Training, nearest);
            return (scores.Select((s, i) => s > verifier.Calibration.Threshold || NearCopy(i)).ToArray(), scores);
        }
        var rule = Model.Link;
        return (similarity.Select((s, i) => rule.Links(s, contrast[i]) || NearCopy(i)).ToArray(), null);
    }

    /// <summary>The near-copy rule's calibrated tolerance: mean absolute pixel difference, fraction of full
    /// scale.</summary>
    public double NearCopyTolerance => Model.Calibration.NearCopyTolerance;

    public ReidentificationModel Model { get; }
    public ImageDataset Training { get; }
    public EmbeddingSet TrainingEmbeddings { get; }
    public ImageDataset Control { get; }
    public EmbeddingSet ControlEmbeddings { get; }

    /// <summary>Embeds images with the encoder, in batches.</summary>
    public Tensor Embed(ImageDataset images) => Embed(Model, images);

    public static Tensor Embed(ReidentificationModel model, ImageDataset images, Action<int, int>? progress = null)
    {
        var all = Enumerable.Range(0, images.Count).ToArray();
        return model.Encoder.Embed(
            (start, count) => images.Batch(all[start..(start + count)]).Images,
            images.Count,
            progress: progress
        );
    }

    /// <summary>Mean absolute pixel difference as a fraction of full scale.</summary>
    public static double PixelDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        long difference = 0;
        for (var p = 0; p < a.Length; p++)
            difference += Math.Abs(a[p] - b[p]);
        return difference / (255.0 * a.Length);
    }

    public void Dispose()
    {
        Model.Dispose();
        Verifier?.Dispose();
    }
}
