using OrleansSynth.Abstractions;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Grains.Audit;

/// <summary>
/// How far the training of an audit model (the encoder or the pair verifier) has come, as a grain shows it while it
/// prepares: tens of minutes on a first audit of a dataset, before the first tile or shard.
/// </summary>
internal static class PreparationProgress
{
    public static WorkProgress Of(string grainId, string model, TrainingProgress progress) =>
        new($"{grainId} ({model})", progress.Step >= progress.TotalSteps ? WorkState.Completed : WorkState.Running, progress.Step, progress.TotalSteps, "steps");
}
