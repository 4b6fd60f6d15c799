namespace OrleansSynth.Abstractions;

[GenerateSerializer]
public enum TrainingKind
{
    /// <summary>A class-conditional diffusion model (teacher or student).</summary>
    Diffusion,

    /// <summary>The audit's re-identification encoder.</summary>
    ReidentificationEncoder,

    /// <summary>The utility classifier (and feature extractor).</summary>
    Classifier,
}
