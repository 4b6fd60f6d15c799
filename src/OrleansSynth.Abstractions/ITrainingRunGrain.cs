namespace OrleansSynth.Abstractions;

/// <summary>
/// One diffusion training run. <see cref="Start"/> returns at once; the work runs on the silo's compute worker
/// and survives the loss of its silo by resuming from the last checkpoint in the artifact store.
/// </summary>
public interface ITrainingRunGrain : IGrainWithStringKey
{
    /// <summary>Starts the run, or returns its status if it was already started with the same spec.</summary>
    Task<TrainingStatus> Start(TrainingRunSpec spec);

    /// <summary>A failed run starts again from its last checkpoint; anything else is left as it is. Returns the
    /// status.</summary>
    Task<TrainingStatus> Retry();

    /// <summary>Stops the run for good: the compute stops at once, the last checkpoint is kept. A finished run is left
    /// as it is.</summary>
    [AlwaysInterleave]
    Task Cancel();

    [AlwaysInterleave]
    Task<TrainingStatus> GetStatus();

    /// <summary>Status snapshots whenever the run makes progress, until it completes or fails.</summary>
    [AlwaysInterleave]
    IAsyncEnumerable<TrainingStatus> Follow(CancellationToken cancellationToken = default);
}
