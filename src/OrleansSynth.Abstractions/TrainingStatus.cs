namespace OrleansSynth.Abstractions;

/// <summary>A snapshot of a training run, cheap to ask for at any time.</summary>
/// <param name="Resumes">How many times the run continued from a checkpoint after losing its silo.</param>
/// <param name="DataSources">What the run's data loader read: "dataset:{key}" for real data, "artifact:{sha256}" per
/// synthetic bundle.</param>
/// <param name="Metrics">Held-out evaluation of the finished model (classifier accuracy and macro AUC, encoder
/// verification AUC).</param>
[GenerateSerializer, Immutable]
public sealed record TrainingStatus(
    [property: Id(0)] WorkState State,
    [property: Id(1)] int Step,
    [property: Id(2)] int TotalSteps,
    [property: Id(3)] double? LastLoss,
    [property: Id(4)] ArtifactRef? Checkpoint,
    [property: Id(5)] int CheckpointStep,
    [property: Id(6)] int Resumes,
    [property: Id(7)] string? Silo,
    [property: Id(8)] string? Error,
    [property: Id(9)] IReadOnlyDictionary<string, double>? Metrics = null,
    [property: Id(10)] IReadOnlyList<string>? DataSources = null
)
{
    public static TrainingStatus NotStarted { get; } = new(WorkState.NotStarted, 0, 0, null, null, 0, 0, null, null);
}
