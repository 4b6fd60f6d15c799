using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Diversity;
using OrleansSynth.ML.Evaluation;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Reports;

/// <summary>
/// Everything a pipeline run reports. Shareable: aggregate numbers, references and hashes, no real image.
/// The student parts are null for a strategy without a student; <paramref name="Twins"/> (all shards) and
/// <paramref name="TwinShards"/> (each shard, in order) are set for the diversity-aware ones.
/// </summary>
public sealed record PipelineReport(
    string Run,
    string Strategy,
    object Spec,
    string DatasetContentHash,
    IReadOnlyDictionary<string, string> Artifacts,
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
    TwinStatistics? Twins = null,
    IReadOnlyList<TwinStatistics>? TwinShards = null);

public sealed record StageTiming(string Name, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, double? Seconds, string? Detail);

/// <summary>A synthetic set's audit in brief, with the similarity histograms the report draws.</summary>
public sealed record PrivacyNumbers(AuditSummary Summary, Distribution SyntheticNearestSimilarity, Distribution ControlNearestSimilarity, SinglingOutRisk SinglingOut, int ExactCopies, int NearExactCopies);

/// <summary>The same classifier trained on real, teacher-synthetic and student-synthetic data, tested on the real test split.</summary>
public sealed record UtilityNumbers(ClassifierEvaluation Real, ClassifierEvaluation Teacher, ClassifierEvaluation? Student)
{
    public double TeacherGapPoints => 100 * (Real.Accuracy - Teacher.Accuracy);
    public double? StudentGapPoints => Student is null ? null : 100 * (Real.Accuracy - Student.Accuracy);
}

public sealed record FidelityNumbers(double FrechetDistance, ManifoldMetrics Manifold);
