namespace OrleansSynth.Abstractions;

/// <summary>How a pipeline run makes its shareable synthetic data; the audit and the gate apply to all of
/// them.</summary>
public enum PipelineStrategy
{
    /// <summary>Privacy distillation: sample the teacher, audit, filter, train a student on the filtered samples
    /// only.</summary>
    Distillation,

    /// <summary>Diversity-aware twins: one unlinked synthetic twin per real record from a pseudo-conditioned teacher;
    /// released after the audit.</summary>
    DiversityAware,

    /// <summary>
    /// Diversity-aware twins, audited and filtered, as the student's training set; the student is pseudo-conditioned on
    /// a classifier trained on those twins and releases twins of them.
    /// </summary>
    DiversityAwareDistillation,
}
