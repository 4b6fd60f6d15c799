namespace OrleansSynth.ML.Diffusion;

/// <summary>What to sample: one image per label, reproducibly from <paramref name="Seed"/>.</summary>
/// <param name="Labels">Class label per image; the null label samples unconditionally.</param>
/// <param name="GuidanceScale">Classifier-free guidance weight: 1 = conditional, 0 = unconditional, above 1
/// sharper.</param>
public sealed record SamplingRequest(long[] Labels, long Seed, double GuidanceScale = 1.0)
{
    /// <summary>Optional per-sample extra conditioning, row-major [Labels.Length, ExtraConditionDim].</summary>
    public float[]? ExtraCondition { get; init; }

    /// <summary>For a text model, each image's prompt as token ids, row-major [Labels.Length, MaxTokens]
    /// (<see cref="Text.ReportTokenizer"/> makes them); none samples from the null prompt.</summary>
    public long[]? PromptTokens { get; init; }
}
