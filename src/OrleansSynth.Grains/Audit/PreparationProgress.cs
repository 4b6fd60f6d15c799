using OrleansSynth.Abstractions;
using OrleansSynth.Grains.Telemetry;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Grains.Audit;

/// <summary>
/// How far the training of an audit model (the encoder or the pair verifier) has come, as a grain shows it while it
/// prepares: tens of minutes on a first audit of a dataset, before the first tile or shard.
/// </summary>
internal static class PreparationProgress
{
    /// <summary>
    /// The progress callback a grain gives <c>AuditPreparation.Prepare</c>: each report becomes the grain's status item
    /// (<paramref name="show"/>) and its silo's gauges.
    /// </summary>
    public static Action<string, TrainingProgress> Reporter(
        string grainId,
        PipelineMetrics metrics,
        Action<WorkProgress> show
    ) =>
        (model, progress) =>
        {
            show(Of(grainId, model, progress));
            metrics.AuditModelTraining(grainId, model, progress.Step, progress.TotalSteps);
        };

    public static WorkProgress Of(string grainId, string model, TrainingProgress progress) =>
        new(
            $"{grainId} ({model})",
            progress.Step >= progress.TotalSteps ? WorkState.Completed : WorkState.Running,
            progress.Step,
            progress.TotalSteps,
            "steps"
        );

    /// <summary>The training as a status shows it: one cut short by the work's end (a failure or a cancel) ends with
    /// the work.</summary>
    public static WorkProgress? Shown(WorkProgress? preparation, WorkState work) =>
        preparation is { State: WorkState.Running } && work != WorkState.Running
            ? preparation with
            {
                State = work,
            }
            : preparation;
}
