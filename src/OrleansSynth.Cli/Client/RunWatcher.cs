using OrleansSynth.Abstractions;
using Spectre.Console;

namespace OrleansSynth.Cli.Client;

/// <summary>
/// Follows a run to its end, printing each stage as it finishes and the progress of its training runs, shards and
/// tiles as it moves. A status call that times out, lands on a stopping silo or on a lost gateway is tried again: the run goes on
/// regardless, and a silo failover takes seconds. Only a cluster silent for <see cref="GiveUpAfter"/> ends the watch.
/// </summary>
internal static class RunWatcher
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(2);

    public static async Task<PipelineStatus> WatchAsync(IPipelineCoordinatorGrain run, bool quiet, CancellationToken cancellationToken)
    {
        var shown = new HashSet<string>();
        var lastProgress = new Dictionary<string, (long Done, DateTime At)>();
        var waitingShown = false;
        while (true)
        {
            var status = await RetryingAsync(run.GetPipelineStatus, cancellationToken);
            if (!quiet)
            {
                foreach (var stage in status.Stages.Where(s => s.State == WorkState.Completed && shown.Add(s.Name)))
                    AnsiConsole.WriteLine($"  done: {stage.Name} ({(stage.FinishedAt - stage.StartedAt)?.TotalSeconds:F0} s) {stage.Detail}");
                if (status.Stages.Any(s => s.State == WorkState.Running && s.Detail == "waiting for approval") && !waitingShown)
                {
                    waitingShown = true;
                    AnsiConsole.WriteLine($"  waiting for approval: synth run approve {run.GetPrimaryKeyString()} --by NAME");
                }
                if (status.State == WorkState.Running)
                {
                    foreach (var p in await RetryingAsync(run.GetProgress, cancellationToken))
                    {
                        var now = DateTime.UtcNow;
                        var changed = !lastProgress.TryGetValue(p.Name, out var last) || (last.Done != p.Done && (now - last.At > ProgressEvery || p.Done == p.Total));
                        if (!changed || p.State == WorkState.Completed && last.Done == p.Total) continue;
                        lastProgress[p.Name] = (p.Done, now);
                        AnsiConsole.WriteLine($"  {RunView.Line(p)}");
                    }
                }
            }
            if (status.State is not (WorkState.Running or WorkState.NotStarted)) return status;
            await Task.Delay(Poll, cancellationToken);
        }
    }

    /// <summary>Calls <paramref name="call"/> until it answers, for at most <see cref="GiveUpAfter"/> of failures in a row.</summary>
    public static async Task<T> RetryingAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        var since = DateTime.UtcNow;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException
                                          or Orleans.Runtime.Messaging.ConnectionFailedException && DateTime.UtcNow - since < GiveUpAfter)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
