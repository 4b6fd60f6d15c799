namespace OrleansSynth.Grains;

/// <summary>
/// Whether a failure is the silo going away (lost, stopping, or the call cancelled by a shutdown) rather than an error
/// in the work: such work is left unfinished and resumes, never marked failed. And retries a call to an idempotent grain (a sampling shard, a scan tile) when its silo went away mid-call: the
/// grain reactivates on a survivor and, having stored no result, recomputes it.
/// </summary>
public static class TransientFailures
{
    public const int MaxAttempts = 5;

    /// <param name="cancellationToken">Once it fires, a failed call is not tried again (the caller's work was cancelled).</param>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> call, Action<int, Exception> onRetry, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (attempt < MaxAttempts && IsSiloLoss(e) && !cancellationToken.IsCancellationRequested)
            {
                onRetry(attempt, e);
            }
        }
    }

    public static bool IsSiloLoss(Exception e) =>
        e is SiloUnavailableException or TimeoutException or OrleansMessageRejectionException or OperationCanceledException;
}
