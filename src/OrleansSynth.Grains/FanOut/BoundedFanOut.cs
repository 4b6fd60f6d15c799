using System.Runtime.ExceptionServices;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.FanOut;

/// <summary>
/// Runs a job's parts on their grains with back-pressure: at most a bounded number are started and unfinished at a
/// time (a few per compute slot in the cluster), each polled until it ends. A part the job cannot reach (its silo went
/// away) is polled again and resumes on a survivor; a failed part fails the job and stops the rest.
/// </summary>
public static class BoundedFanOut
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>How many parts a job keeps in flight: <paramref name="perSlot"/> for each compute slot of the active
    /// silos.</summary>
    /// <remarks>Every silo is taken to have as many slots as this one; a heterogeneous cluster only queues a little
    /// more or less.</remarks>
    public static async Task<int> InFlightLimitAsync(IGrainFactory grains, int slotsPerSilo, int perSlot)
    {
        var silos = (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count;
        return Math.Max(1, silos) * Math.Max(1, slotsPerSilo) * Math.Max(1, perSlot);
    }

    /// <param name="poll">Starts a part unless it is under way or done and says where it stands (the part grain's
    /// Poll).</param>
    /// <param name="completed">Called as each part completes, with its result.</param>
    /// <param name="unreachable">Called when a poll fails because the part's silo went away (it is polled
    /// again).</param>
    /// <returns>The results in the order of <paramref name="parts"/>.</returns>
    public static async Task<TResult[]> RunAsync<TSpec, TResult>(
        IReadOnlyList<TSpec> parts,
        int inFlight,
        Func<TSpec, Task<PartStatus<TResult>>> poll,
        Action<TSpec, TResult> completed,
        Action<TSpec, Exception> unreachable,
        CancellationToken cancellationToken
    )
        where TResult : class
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(Math.Max(1, inFlight));
        Exception? failure = null;

        async Task<TResult> RunPartAsync(TSpec part)
        {
            await slots.WaitAsync(stop.Token);
            try
            {
                while (true)
                {
                    stop.Token.ThrowIfCancellationRequested();
                    PartStatus<TResult> status;
                    try
                    {
                        status = await poll(part);
                    }
                    catch (Exception e) when (TransientFailures.IsSiloLoss(e) && !stop.IsCancellationRequested)
                    {
                        unreachable(part, e);
                        await Task.Delay(RetryDelay, stop.Token);
                        continue;
                    }
                    switch (status.State)
                    {
                        case WorkState.Completed:
                            completed(part, status.Result!);
                            return status.Result!;
                        case WorkState.Failed:
                            failure ??= new PartFailedException(status.Error ?? "a part failed");
                            await stop.CancelAsync();
                            throw failure;
                        case WorkState.Cancelled:
                            throw new OperationCanceledException("a part was cancelled");
                    }
                }
            }
            finally
            {
                slots.Release();
            }
        }

        var running = parts.Select(RunPartAsync).ToArray();
        try
        {
            return await Task.WhenAll(running);
        }
        catch (Exception) when (failure is not null)
        {
            // The failure, not the cancellations it caused in the other parts.
            ExceptionDispatchInfo.Throw(failure);
            throw;
        }
    }
}
