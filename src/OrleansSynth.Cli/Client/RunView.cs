using OrleansSynth.Abstractions;
using Spectre.Console;

namespace OrleansSynth.Cli.Client;

/// <summary>How a run is shown to a person: its stages, the progress of its work, the gate's last evidence.</summary>
internal static class RunView
{
    public static void Status(
        string run,
        PipelineStatus status,
        IReadOnlyList<WorkProgress> progress,
        GateDecision? decision
    )
    {
        AnsiConsole.MarkupLine($"run [bold]{Markup.Escape(run)}[/]: {Markup.Escape(Describe(status.State))}");
        var stages = new Table().AddColumns("stage", "state", "seconds", "detail");
        foreach (var s in status.Stages)
            stages.AddRow(
                Markup.Escape(s.Name),
                s.State.ToString(),
                (s.FinishedAt ?? DateTimeOffset.UtcNow) - s.StartedAt is { } t ? $"{t.TotalSeconds:F0}" : "",
                Markup.Escape(s.Detail ?? "")
            );
        AnsiConsole.Write(stages);
        foreach (var p in progress)
            AnsiConsole.WriteLine($"  {Line(p)}");
        if (decision is not null)
            Evidence(decision);
        if (status.Error is not null)
            AnsiConsole.WriteLine($"  {status.Error}");
    }

    public static void Evidence(GateDecision decision)
    {
        var e = decision.Evidence;
        AnsiConsole.WriteLine(
            $"gate ({decision.DecidedAt:u}, asked by {decision.RequestedBy}): {(decision.Open ? "open" : "closed")}"
        );
        AnsiConsole.WriteLine(
            $"  audit: {e.TilesDone}/{e.TilesTotal} tiles; {e.FlaggedSamples} samples flagged, {e.FlaggedRemaining} "
                + $"still in the set after the filter"
        );
        AnsiConsole.WriteLine(
            $"  canaries: {e.CanaryRecall:P1} of {e.CanariesPlanted} caught (minimum {e.MinimumCanaryRecall:P0})"
        );
        AnsiConsole.WriteLine(
            $"  samples kept: {e.SamplesRemaining} (minimum {e.MinimumSamples}); approval "
                + (
                    e.ApprovalRequired
                        ? e.ApprovedBy is { } by
                            ? $"given by {by}"
                            : "required, not given"
                        : "not required"
                )
        );
        foreach (var reason in decision.Reasons)
            AnsiConsole.WriteLine($"  - {reason}");
    }

    public static string Line(WorkProgress p) =>
        $"{p.Name}: {p.Done}/{p.Total} {p.Unit}"
        + (p.State == WorkState.Running ? "" : $" ({p.State.ToString().ToLowerInvariant()})");

    public static string Describe(WorkState state) =>
        state switch
        {
            WorkState.Running => "running",
            WorkState.Completed => "completed, released",
            WorkState.Refused => "refused by a privacy gate, nothing released",
            WorkState.Failed => "failed",
            WorkState.Cancelled => "cancelled",
            _ => "not started",
        };

    /// <summary>The exit code of a run that ended: 0 only when it completed and released.</summary>
    public static int ExitCode(WorkState state) =>
        state == WorkState.Completed ? Commands.CliErrors.Done : Commands.CliErrors.RunFailed;
}
