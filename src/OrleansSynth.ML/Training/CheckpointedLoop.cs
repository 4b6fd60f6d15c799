namespace OrleansSynth.ML.Training;

/// <summary>
/// The checkpointing around a resumable training loop: every <c>every</c> steps, at the end, and when the loop is
/// cancelled (before the cancellation propagates, so no finished step is lost). Without a save action the loop only
/// runs.
/// </summary>
public static class CheckpointedLoop
{
    /// <param name="step">The step the trainer has reached; <paramref name="trainOneStep"/> advances it.</param>
    public static void Run(
        Func<int> step,
        int lastStep,
        Action trainOneStep,
        int every,
        Action? save,
        CancellationToken cancellationToken
    )
    {
        try
        {
            while (step() < lastStep)
            {
                cancellationToken.ThrowIfCancellationRequested();
                trainOneStep();
                if (save is not null && every > 0 && step() % every == 0)
                    save();
            }
        }
        catch (OperationCanceledException) when (save is not null)
        {
            save();
            throw;
        }
        save?.Invoke();
    }
}
