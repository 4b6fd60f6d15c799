namespace OrleansSynth.Abstractions;

/// <summary>The ids of the grains doing a pipeline run's work, in one place for the coordinator and its
/// clients.</summary>
public static class RunGrainIds
{
    public static string FeatureExtractor(string run) => $"{run}/classifier-real";

    public static string Teacher(string run) => $"{run}/teacher";

    public static string Student(string run) => $"{run}/student";

    public static string TeacherClassifier(string run) => $"{run}/classifier-teacher";

    public static string StudentClassifier(string run) => $"{run}/classifier-student";

    public static string TeacherSamples(string run) => $"{run}/teacher-samples";

    public static string Twins(string run) => $"{run}/twins";

    public static string StudentSamples(string run) => $"{run}/student-samples";

    public static string TeacherAudit(string run) => $"{run}/teacher-audit";

    public static string StudentAudit(string run) => $"{run}/student-audit";

    /// <summary>Every training run of a pipeline run (the real-data classifier is the feature extractor too).</summary>
    public static IReadOnlyList<string> TrainingRuns(string run) =>
        [Teacher(run), Student(run), FeatureExtractor(run), TeacherClassifier(run), StudentClassifier(run)];

    public static IReadOnlyList<string> SamplingJobs(string run) =>
        [TeacherSamples(run), Twins(run), StudentSamples(run)];

    public static IReadOnlyList<string> Audits(string run) => [TeacherAudit(run), StudentAudit(run)];
}
