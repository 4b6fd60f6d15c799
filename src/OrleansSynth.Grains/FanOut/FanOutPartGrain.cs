using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.FanOut;

/// <summary>
/// One part of a fanned-out job (a sampling shard, a scan tile), computed in the background of its grain while the
/// job polls it. No call is held open for the computation, so none can time out while the part waits for a compute
/// slot, however many parts a job has. A finished part stores its result and never recomputes; a part whose silo died
/// is started again by the job's next poll, which activates it on a survivor. A failure is reported to one poll and
/// then forgotten: the job records it, and polls again only when it is retried, which computes the part again.
/// </summary>
public abstract partial class FanOutPartGrain<TSpec, TResult>(
    IPersistentState<FanOutPartState<TResult>> state,
    ILogger logger
) : Grain
    where TSpec : class
    where TResult : class
{
    // Long enough that a part finishing soon after a poll is reported by that poll, well under the response timeout.
    private static readonly TimeSpan PollWait = TimeSpan.FromSeconds(5);

    // Fires on deactivation (a silo stop: the part resumes elsewhere) or on Cancel (its job was cancelled).
    private readonly CancellationTokenSource _stopping = new();
    private Task? _work;
    private string? _error;

    /// <summary>Computes the part's result; called again after a stop, so it must be idempotent.</summary>
    protected abstract Task<TResult> ComputeAsync(TSpec spec, CancellationToken stopping);

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _stopping.CancelAsync();

    public Task Cancel() => _stopping.CancelAsync();

    public async Task<PartStatus<TResult>> Poll(TSpec spec)
    {
        // A part is its job's: a poll with another spec would read (or compute) someone else's result under this key.
        var fingerprint = SpecFingerprint.Of(spec);
        if ((state.State.Spec ??= fingerprint) != fingerprint)
            throw new ArgumentException(
                $"Part {this.GetPrimaryKeyString()} was started with another spec; refused.",
                nameof(spec)
            );
        if (Ended() is { } ended)
            return ended;
        if (_work is not { IsCompleted: false })
            _work = RunAsync(spec);
        await Task.WhenAny(_work, Task.Delay(PollWait));
        return Ended() ?? new PartStatus<TResult>(WorkState.Running);
    }

    private PartStatus<TResult>? Ended()
    {
        if (state.State.Result is { } result)
            return new(WorkState.Completed, result);
        if (_error is { } error)
        {
            _error = null;
            return new(WorkState.Failed, Error: error);
        }
        return _stopping.IsCancellationRequested ? new(WorkState.Cancelled) : null;
    }

    private async Task RunAsync(TSpec spec)
    {
        try
        {
            state.State.Result = await ComputeAsync(spec, _stopping.Token);
            LogCompleted(this.GetPrimaryKeyString());
        }
        catch (Exception e) when (TransientFailures.IsSiloLoss(e))
        {
            return; // a stop or a cancel: after a stop the next poll starts the part again
        }
        catch (Exception e)
        {
            _error = e.Message;
            LogFailed(e, this.GetPrimaryKeyString());
            return;
        }
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e)
        {
            // The result stands in this activation; were the silo lost too, the part would compute again (idempotent).
            LogNotStored(e, this.GetPrimaryKeyString());
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Part {Part} completed")]
    private partial void LogCompleted(string part);

    [LoggerMessage(Level = LogLevel.Error, Message = "Part {Part} failed")]
    private partial void LogFailed(Exception exception, string part);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Part {Part} completed but its result was not stored")]
    private partial void LogNotStored(Exception exception, string part);
}
