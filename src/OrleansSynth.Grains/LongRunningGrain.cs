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

    /// <summary>Whether the persisted state says the work is unfinished (running, not completed, failed or refused).</summary>
    protected abstract bool IsRunning { get; }

    /// <summary>Whether the background work is running in this activation now.</summary>
    protected abstract bool IsWorking { get; }

    /// <summary>Starts the background work in this activation; called when it is unfinished and not running here.</summary>
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
        this.RegisterGrainTimer(() =>
        {
            if (working()) DelayDeactivation(2 * Period);
            return Task.CompletedTask;
        }, Period, Period);

    /// <summary>Registers the reminder that wakes this grain while its work is unfinished; call when the work starts.</summary>
    protected Task KeepResumingAsync() => this.RegisterOrUpdateReminder(ResumeReminder, Period, Period);

    /// <summary>Removes the reminder; call when the work reaches an end state.</summary>
    protected async Task StopResumingAsync()
    {
        if (await this.GetReminder(ResumeReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    /// <summary>
    /// Starts failed work again: <paramref name="markRunning"/> clears the failure in the state, which is written before
    /// the work resumes. Does nothing unless <paramref name="failed"/>.
    /// </summary>
    protected async Task RetryIfFailedAsync(bool failed, Action markRunning, Func<Task> writeState)
    {
        if (!failed) return;
        markRunning();
        await writeState();
        await KeepResumingAsync();
        ResumeWork();
    }

    /// <summary>Fires when an operator cancels the work: it stops as it would at a silo stop, but is not resumed.</summary>
    protected CancellationToken Cancelled => _cancelled.Token;

    /// <summary>
    /// Cancels unfinished work for good: <paramref name="markCancelled"/> records it in the state, which is written
    /// before the work is stopped (so no resume can start it again), then the reminder goes and the work's token fires.
    /// Does nothing unless <paramref name="running"/>.
    /// </summary>
    protected async Task CancelIfRunningAsync(bool running, Action markCancelled, Func<Task> writeState)
    {
        if (!running) return;
        markCancelled();
        await writeState();
        await StopResumingAsync();
        await _cancelled.CancelAsync();
    }

    /// <summary>
    /// Polls a started grain's status until it completes (returned), fails (thrown, naming <paramref name="what"/>) or
    /// was cancelled (thrown as a cancellation: the run's cancel reached it).
    /// </summary>
    protected static async Task<T> WaitUntilDone<T>(string what, Func<Task<T>> getStatus, Func<T, WorkState> stateOf, Func<T, string?> errorOf)
    {
        while (true)
        {
            var status = await getStatus();
            if (stateOf(status) == WorkState.Completed) return status;
            if (stateOf(status) == WorkState.Failed) throw new InvalidOperationException($"{what} failed: {errorOf(status)}");
            if (stateOf(status) == WorkState.Cancelled) throw new OperationCanceledException($"{what} was cancelled");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ResumeReminder) return;
        if (!IsRunning) await StopResumingAsync();
        else if (!IsWorking) ResumeWork();
    }
}
