using Orleans.Core;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains;

/// <summary>
/// A grain that runs background work between calls. Two things keep that work alive:
/// - Orleans collects activations that receive no calls for a while, and background tasks do not count as calls, so
///   while the work runs the activation defers its own collection;
/// - a silo can die with the work on it, and nothing calls the grain afterwards, so a reminder (stored by the cluster's
///   reminder service, not the silo) wakes the grain on a survivor every minute while its work is unfinished; the
///   activation, or the tick itself, resumes the work.
/// </summary>
public abstract class LongRunningGrain : Grain, IRemindable
{
    private const string ResumeReminder = "resume";
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly CancellationTokenSource _cancelled = new();
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    // How long a reminder registration may take before the work goes on without it (the timer tries again).
    private static readonly TimeSpan ReminderPatience = TimeSpan.FromSeconds(20);
    private bool _resumeRegistered;

    /// <summary>Whether the persisted state says the work is unfinished (running, not completed, failed or
    /// refused).</summary>
    protected abstract bool IsRunning { get; }

    /// <summary>Whether the background work is running in this activation now.</summary>
    protected abstract bool IsWorking { get; }

    /// <summary>Starts the background work in this activation; called when it is unfinished and not running
    /// here.</summary>
    protected abstract void ResumeWork();

    /// <summary>
    /// Writes the grain's state with one writer at a time: the background work, timers and calls interleave at their
    /// awaits, and two overlapping writes of one state would conflict on its ETag.
    /// </summary>
    protected async Task WriteOneAtATimeAsync(IStorage state, CancellationToken cancellationToken = default)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            await state.WriteStateAsync(cancellationToken);
        }
        finally
        {
            _writes.Release();
        }
    }

    protected void KeepActiveWhile(Func<bool> working) =>
        this.RegisterGrainTimer(
            async () =>
            {
                if (!working())
                    return;
                DelayDeactivation(2 * Period);
                if (!_resumeRegistered && IsRunning)
                    await KeepResumingAsync();
            },
            Period,
            Period
        );

    /// <summary>
    /// Registers the reminder that wakes this grain while its work is unfinished; call when the work starts. The
    /// reminder is the safety net for a silo loss, not the work: a registration that does not answer in time (seen
    /// right after a silo was killed, while its reminder ranges move to the survivors) leaves the work going, and the
    /// timer tries again.
    /// </summary>
    protected async Task KeepResumingAsync()
    {
        try
        {
            await this.RegisterOrUpdateReminder(ResumeReminder, Period, Period).WaitAsync(ReminderPatience);
            _resumeRegistered = true;
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            _resumeRegistered = false;
        }
    }

    /// <summary>Removes the reminder; call when the work reaches an end state. One left behind removes itself on its
    /// next tick.</summary>
    protected async Task StopResumingAsync()
    {
        try
        {
            if (await this.GetReminder(ResumeReminder).WaitAsync(ReminderPatience) is { } reminder)
                await this.UnregisterReminder(reminder).WaitAsync(ReminderPatience);
            _resumeRegistered = false;
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            // The reminder's next tick finds the work finished and unregisters it then.
        }
    }

    /// <summary>
    /// Starts failed work again: <paramref name="markRunning"/> clears the failure in the state, which is written
    /// before the work resumes. Does nothing unless <paramref name="failed"/>.
    /// </summary>
    protected async Task RetryIfFailedAsync(bool failed, Action markRunning, Func<Task> writeState)
    {
        if (!failed)
            return;
        markRunning();
        await writeState();
        await KeepResumingAsync();
        ResumeWork();
    }

    /// <summary>Fires when an operator cancels the work: it stops as it would at a silo stop, but is not
    /// resumed.</summary>
    protected CancellationToken Cancelled => _cancelled.Token;

    /// <summary>
    /// Cancels unfinished work for good: <paramref name="markCancelled"/> records it in the state, which is written
    /// before the work is stopped (so no resume can start it again), then the reminder goes and the work's token fires.
    /// Does nothing unless <paramref name="running"/>.
    /// </summary>
    protected async Task CancelIfRunningAsync(bool running, Action markCancelled, Func<Task> writeState)
    {
        if (!running)
            return;
        markCancelled();
        await writeState();
        await StopResumingAsync();
        await _cancelled.CancelAsync();
    }

    /// <summary>
    /// Polls a started grain's status until it completes (returned), fails (thrown, naming <paramref name="what"/>) or
    /// was cancelled (thrown as a cancellation: the run's cancel reached it).
    /// </summary>
    protected static async Task<T> WaitUntilDone<T>(
        string what,
        Func<Task<T>> getStatus,
        Func<T, WorkState> stateOf,
        Func<T, string?> errorOf
    )
    {
        while (true)
        {
            var status = await getStatus();
            if (stateOf(status) == WorkState.Completed)
                return status;
            if (stateOf(status) == WorkState.Failed)
                throw new InvalidOperationException($"{what} failed: {errorOf(status)}");
            if (stateOf(status) == WorkState.Cancelled)
                throw new OperationCanceledException($"{what} was cancelled");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ResumeReminder)
            return;
        if (!IsRunning)
            await StopResumingAsync();
        else if (!IsWorking)
            ResumeWork();
    }
}
