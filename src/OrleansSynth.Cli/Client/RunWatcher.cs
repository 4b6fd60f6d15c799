using OrleansSynth.Abstractions;
using Spectre.Console;

namespace OrleansSynth.Cli.Client;

/// <summary>
/// Follows a run to its end, printing each stage as it finishes and the progress of its training runs, shards and
/// tiles as it moves: as live bars on a terminal, as a line per change in a log or pipe. A status call that times out,
/// lands on a stopping silo or on a lost gateway is tried again: the run goes on regardless, and a silo failover takes
/// seconds. Only a cluster silent for <see cref="GiveUpAfter"/> ends the watch.
/// </summary>
internal static class RunWatcher
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(2);

    public static Task<PipelineStatus> WatchAsync(
        IPipelineCoordinatorGrain run,
        bool quiet,
        CancellationToken cancellationToken
    ) => WatchAsync(run, run.GetPrimaryKeyString(), quiet ? null : AnsiConsole.Console, cancellationToken);

    /// <param name="console">Where the run is shown, or null to follow it silently.</param>
    public static async Task<PipelineStatus> WatchAsync(
        IPipelineCoordinatorGrain run,
        string runName,
        IAnsiConsole? console,
        CancellationToken cancellationToken
    )
    {
        if (console is null)
            return await FollowAsync(run, runName, console, view: null, cancellationToken);
        if (!console.Profile.Capabilities.Interactive)
            return await FollowAsync(run, runName, console, new ProgressLines(console), cancellationToken);
        PipelineStatus? ended = null;
        await console
            .Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new RemainingTimeColumn(),
                new SpinnerColumn()
            )
            .StartAsync(async context =>
                ended = await FollowAsync(run, runName, console, new ProgressBars(context), cancellationToken)
            );
        return ended!;
    }

    private static async Task<PipelineStatus> FollowAsync(
        IPipelineCoordinatorGrain run,
        string runName,
        IAnsiConsole? console,
        IProgressView? view,
        CancellationToken cancellationToken
    )
    {
        var shown = new HashSet<string>();
        var waitingShown = false;
        while (true)
        {
            var status = await RetryingAsync(run.GetPipelineStatus, cancellationToken);
            if (console is not null && view is not null)
            {
                // Written above the bars on a terminal (Spectre's live display moves them down).
                foreach (var stage in status.Stages.Where(s => s.State == WorkState.Completed && shown.Add(s.Name)))
                    console.WriteLine(
                        $"  done: {stage.Name} ({(stage.FinishedAt - stage.StartedAt)?.TotalSeconds:F0} s) "
                            + $"{stage.Detail}"
                    );
                if (
                    status.Stages.Any(s => s.State == WorkState.Running && s.Detail == "waiting for approval")
                    && !waitingShown
                )
                {
                    waitingShown = true;
                    console.WriteLine($"  waiting for approval: synth run approve {runName} --by NAME");
                }
                // Once more when the run has ended, so the bars stop at their final counts.
                if (status.State != WorkState.NotStarted)
                    foreach (var progress in await RetryingAsync(run.GetProgress, cancellationToken))
                        view.Show(progress);
            }
            if (status.State is not (WorkState.Running or WorkState.NotStarted))
                return status;
            await Task.Delay(Poll, cancellationToken);
        }
    }

    /// <summary>Calls <paramref name="call"/> until it answers, for at most <see cref="GiveUpAfter"/> of failures in a
    /// row.</summary>
    public static async Task<T> RetryingAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        var since = DateTime.UtcNow;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e)
                when (e
                        is TimeoutException
                            or SiloUnavailableException
                            or OrleansMessageRejectionException
                            or Orleans.Runtime.Messaging.ConnectionFailedException
                    && DateTime.UtcNow - since < GiveUpAfter
                )
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    private interface IProgressView
    {
        void Show(WorkProgress progress);
    }

    /// <summary>A line per item when it moved and at least <see cref="Every"/> passed, and when it ends: readable in a
    /// log.</summary>
    private sealed class ProgressLines(IAnsiConsole console) : IProgressView
    {
        private static readonly TimeSpan Every = TimeSpan.FromSeconds(5);
        private readonly Dictionary<string, (long Done, DateTime At)> _last = [];

        public void Show(WorkProgress progress)
        {
            var now = DateTime.UtcNow;
            var seen = _last.TryGetValue(progress.Name, out var last);
            var moved =
                !seen || (last.Done != progress.Done && (now - last.At > Every || progress.Done == progress.Total));
            if (!moved || progress.State == WorkState.Completed && last.Done == progress.Total)
                return;
            _last[progress.Name] = (progress.Done, now);
            console.WriteLine($"  {RunView.Line(progress)}");
        }
    }

    /// <summary>A live bar per item, kept when it ends: for a terminal.</summary>
    private sealed class ProgressBars(ProgressContext context) : IProgressView
    {
        private readonly Dictionary<string, ProgressTask> _bars = [];

        public void Show(WorkProgress progress)
        {
            if (!_bars.TryGetValue(progress.Name, out var bar))
                _bars[progress.Name] = bar = context.AddTask(Markup.Escape(progress.Name));
            if (bar.IsFinished)
                return;
            bar.IsIndeterminate = progress.Total == 0;
            bar.MaxValue = Math.Max(1, progress.Total);
            bar.Value = progress.Done;
            var ended = progress.State == WorkState.Running ? "" : $", {progress.State.ToString().ToLowerInvariant()}";
            bar.Description = Markup.Escape(
                $"{progress.Name}: {progress.Done}/{progress.Total} {progress.Unit}{ended}"
            );
            if (progress.State != WorkState.Running)
                bar.StopTask();
        }
    }
}
