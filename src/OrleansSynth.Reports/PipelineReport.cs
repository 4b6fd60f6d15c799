using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Diversity;
using OrleansSynth.ML.Evaluation;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Reports;

/// <summary>
/// Everything a pipeline run reports, and all of it shareable: aggregate numbers, the settings without seeds, the
/// released files' hashes, no real image and nothing that names a sample or a record (that is the internal report's).
/// The student parts are null for a strategy without a student; <paramref name="Twins"/> (all shards together) is set
/// for the diversity-aware ones, and <paramref name="StudentTwins"/> when the student's samples are twins of its
/// own (synthetic) training set.
/// </summary>
public sealed record PipelineReport(
    string Run,
    string Strategy,
    ReleasedSettings Settings,
    string DatasetContentHash,
    IReadOnlyDictionary<string, string> ReleasedFiles,
    IReadOnlyList<StageTiming> Stages,
    PrivacyNumbers Teacher,
    PrivacyNumbers? Student,
    UtilityNumbers Utility,
    FidelityNumbers TeacherFidelity,
    FidelityNumbers? StudentFidelity,
    IReadOnlyList<LossPoint> TeacherLoss,
    IReadOnlyList<LossPoint>? StudentLoss,
    int FilteredOut,
    int KeptAfterFilter,
    ReleaseGateEvidence Release,
    TwinStatistics? Twins = null,
    TwinStatistics? StudentTwins = null,
    PromptAgreementNumbers? PromptAgreement = null
);

/// <summary>
/// The run's settings as far as they describe the method: no seeds, paths or internal ids. <paramref name="Guidance"/>
/// is plain sampling's (the teacher's set of a distillation run, the student's samples); the twins draw with their own
/// guidance, in <paramref name="Twins"/>, which is null for a strategy without twins. <paramref name="PolicySetBy"/>:
/// who set the gate, by role (the submitter at or above the operator's floor, or an operator).
/// </summary>
public sealed record ReleasedSettings(
    int SampleCount,
    int TeacherSteps,
    int? StudentSteps,
    double TeacherLearningRate,
    double? StudentLearningRate,
    double Guidance,
    string Sampler,
    int SamplerSteps,
    double Alpha,
    int EncoderSteps,
    int ClassifierSteps,
    int Canaries,
    int MinimumSamples,
    double MinimumCanaryRecall,
    double StudentFlaggedRateCeiling,
    TwinSettings? Twins = null,
    string PolicySetBy = "",
    ReleasedVerifier? Verifier = null
);

/// <summary>The audits' pair verifier, as trained: null in <see cref="ReleasedSettings"/> when the encoder's link rule
/// made the verdicts.</summary>
/// <param name="LookAlikes">How many of each record's nearest others its negatives were drawn among.</param>
/// <param name="Architecture">The network's name (e.g. with or without batch normalisation): the same steps of two
/// networks are not the same audit.</param>
public sealed record ReleasedVerifier(int Steps, int Batch, int LookAlikes, string Architecture);

/// <summary>
/// What the final gate looked at before anything was released. <paramref name="StudentFilteredOut"/>: student samples
/// its own audit flagged, removed from the release. Null fields belong to a run without a student.
/// </summary>
public sealed record ReleaseGateEvidence(
    bool Released,
    IReadOnlyList<string> Reasons,
    int ReleasedSamples,
    bool ModelReleased,
    double TeacherCanaryRecall,
    double? StudentCanaryRecall,
    double MinimumCanaryRecall,
    double? StudentFlaggedRateUpper,
    double StudentFlaggedRateCeiling,
    int? StudentFilteredOut
);

public sealed record StageTiming(
    string Name,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double? Seconds,
    string? Detail
);

/// <summary>A synthetic set's audit in brief, with the similarity histograms the report draws.</summary>
public sealed record PrivacyNumbers(
    AuditSummary Summary,
    Distribution SyntheticNearestSimilarity,
    Distribution ControlNearestSimilarity,
    SinglingOutRisk SinglingOut,
    HoldoutDistanceResult HoldoutDistance,
    int ExactCopies,
    int NearExactCopies
);

/// <summary>
/// The same classifier trained on real, teacher-synthetic and student-synthetic data, tested on the real test split.
/// Gaps are in points: accuracy, and macro one-vs-rest AUROC (the diversity-aware diffusion paper's metric).
/// </summary>
public sealed record UtilityNumbers(
    ClassifierEvaluation Real,
    ClassifierEvaluation Teacher,
    ClassifierEvaluation? Student
)
{
    public double TeacherGapPoints => 100 * (Real.Accuracy - Teacher.Accuracy);
    public double? StudentGapPoints => Student is null ? null : 100 * (Real.Accuracy - Student.Accuracy);
    public double TeacherAurocGapPoints => 100 * (Real.MacroAuc - Teacher.MacroAuc);
    public double? StudentAurocGapPoints => Student is null ? null : 100 * (Real.MacroAuc - Student.MacroAuc);
}

/// <summary>
/// For a run on data with reports: how well images follow their prompts (<see cref="PromptReader"/>).
/// <paramref name="RealTest"/> is the measure's reference, held-out real images with their own reports. A set is null
/// when not measured: a set without prompts, fewer than ten images scored, or twins, which are drawn from their source
/// record's image too, so that their nearest real images say nothing of the prompt alone.
/// </summary>
public sealed record PromptAgreementNumbers(
    PromptAgreement? RealTest,
    PromptAgreement? Teacher,
    PromptAgreement? Student
);

public sealed record FidelityNumbers(double FrechetDistance, ManifoldMetrics Manifold);
