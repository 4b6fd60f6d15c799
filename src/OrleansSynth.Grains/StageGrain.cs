using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains;

/// <summary>
/// A stage of a run (a training run, a sampling job, an audit): started once with a spec bound by its content, run in
/// the background, resumed on another silo after a silo loss, started again when it failed and retried, cancelled for
/// good. A stage supplies its state, how it validates a spec, how it writes its state and its work.
/// </summary>
public abstract class StageGrain<TSpec> : LongRunningGrain
    where TSpec : class
{
    /// <summary>The stage's persisted spec, state and error.</summary>
    protected abstract IStageWork<TSpec> StageState { get; }

    /// <summary>What the stage is called in a refusal ("Audit", "Sampling job").</summary>
    protected abstract string StageName { get; }

    /// <summary>Checks a new spec before anything is written; throws to refuse it.</summary>
    protected abstract Task ValidateAsync(TSpec spec);

    protected abstract Task PersistAsync();

    /// <summary>The stage's work, from wherever its state says it stands.</summary>
    protected abstract Task RunAsync();

    /// <summary>The work running in this activation, if any.</summary>
    protected Task? BackgroundWork { get; private set; }

    protected override bool IsRunning => StageState.State == WorkState.Running;

    protected override bool IsWorking => BackgroundWork is { IsCompleted: false };

    protected override void ResumeWork() => BackgroundWork = RunAsync();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        KeepActiveWhile(() => IsRunning);
        if (IsRunning)
            ResumeWork();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Starts the work once. A second start with the same spec (compared by content) answers as the first; one with
    /// another spec is refused, so no caller can swap the work behind a run. A new spec is validated, recorded as
    /// running and written before the reminder is registered and the work starts.
    /// </summary>
    protected async Task StartStageAsync(TSpec spec)
    {
        var work = StageState;
        if (work.Spec is { } existing)
        {
            if (SpecFingerprint.Of(existing) != SpecFingerprint.Of(spec))
                throw new InvalidOperationException(
                    $"{StageName} {this.GetPrimaryKeyString()} was already started with a different spec."
                );
            return;
        }
        await ValidateAsync(spec);
        (work.Spec, work.State) = (spec, WorkState.Running);
        await PersistAsync();
        await KeepResumingAsync();
        BackgroundWork = RunAsync();
    }

    /// <summary>Starts failed work again (see <see cref="LongRunningGrain.RetryIfFailedAsync"/>).</summary>
    protected Task RetryStageAsync() =>
        RetryIfFailedAsync(
            StageState.State == WorkState.Failed,
            () => (StageState.State, StageState.Error) = (WorkState.Running, null),
            PersistAsync
        );

    /// <summary>Cancels unfinished work for good (see <see cref="LongRunningGrain.CancelIfRunningAsync"/>).</summary>
    protected Task CancelStageAsync() =>
        CancelIfRunningAsync(IsRunning, () => StageState.State = WorkState.Cancelled, PersistAsync);
}
