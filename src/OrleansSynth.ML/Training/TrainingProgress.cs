namespace OrleansSynth.ML.Training;

/// <summary>A progress report: the step just finished, the mean loss since the last report, and throughput.</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double ImagesPerSecond);
