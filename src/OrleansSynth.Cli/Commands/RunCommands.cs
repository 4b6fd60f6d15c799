using System.CommandLine;
using OrleansSynth.Abstractions;
using OrleansSynth.Cli.Client;
using OrleansSynth.Cli.Connection;
using OrleansSynth.Cli.Specs;
using Spectre.Console;

namespace OrleansSynth.Cli.Commands;

/// <summary><c>synth run ...</c>: submit a pipeline run to the cluster, follow it, act on it as an operator, export its
/// release.</summary>
internal static class RunCommands
{
    public static Command Create() =>
        new("run", "Submit, follow, approve, cancel, retry and export pipeline runs on the cluster.")
        {
            Submit(),
            List(),
            Status(),
            Watch(),
            Approve(),
            Cancel(),
            Retry(),
            Export(),
        };

    private static Argument<string> RunArgument() => new("RUN") { Description = "The run's name." };

    private static Command Submit()
    {
        var spec = new Argument<string>("SPEC") { Description = "YAML run spec (see the README)." };
        var name = new Option<string?>("--name")
        {
            Description =
                "Run name (default: a fresh one). The same name with the same spec is the same run; with another "
                + "spec it is refused.",
        };
        var watch = new Option<bool>("--watch") { Description = "Follow the run to its end after submitting it." };
        var command = new Command("submit", "Submit a pipeline run described by a YAML spec; prints its name.")
        {
            spec,
            name,
            watch,
        };
        command.SetAction(
            (parse, cancellationToken) =>
                CliErrors.Run(async () =>
                {
                    var pipeline = PipelineSpecFile.Load(parse.GetValue(spec)!);
                    await using var cluster = await ClientOptions.ConnectAsync(parse, cancellationToken);
                    var run = await cluster
                        .Grains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key)
                        .Submit(parse.GetValue(name), pipeline);
                    var json = parse.GetValue(ClientOptions.Json);
                    if (json)
                        JsonOutput.Write(run);
                    else
                        Console.WriteLine(run.Name);
                    if (!parse.GetValue(watch))
                        return CliErrors.Done;
                    var status = await RunWatcher.WatchAsync(Coordinator(cluster, run.Name), json, cancellationToken);
                    // As `run watch` ends: the outcome, and why when it failed (the JSON document stays the
                    // submission's alone).
                    if (!json)
                        Ended(run.Name, status);
                    return RunView.ExitCode(status.State);
                })
        );
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the cluster's runs with their state and current stage.");
        command.SetClusterAction(
            async (parse, cluster, cancellationToken) =>
            {
                var runs = await cluster.Grains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key).List();
                if (parse.GetValue(ClientOptions.Json))
                {
                    JsonOutput.Write(runs);
                    return CliErrors.Done;
                }
                var table = new Table().AddColumns("run", "state", "stage", "strategy", "submitted");
                foreach (var r in runs)
                    table.AddRow(
                        Markup.Escape(r.Name),
                        r.State.ToString(),
                        Markup.Escape(r.Stage ?? ""),
                        r.Strategy,
                        $"{r.SubmittedAt:u}"
                    );
                AnsiConsole.Write(table);
                return CliErrors.Done;
            }
        );
        return command;
    }

    private static Command Status()
    {
        var run = RunArgument();
        var command = new Command("status", "A run's stages, the progress of its work and the gate's evidence.")
        {
            run,
        };
        command.SetClusterAction(
            async (parse, cluster, cancellationToken) =>
            {
                var coordinator = await Existing(cluster, parse.GetValue(run)!);
                var status = await coordinator.GetPipelineStatus();
                var progress = await coordinator.GetProgress();
                var decision = (await coordinator.GetDecisions()).LastOrDefault();
                if (parse.GetValue(ClientOptions.Json))
                    JsonOutput.Write(
                        new
                        {
                            run = parse.GetValue(run),
                            status,
                            progress,
                            gate = decision,
                        }
                    );
                else
                    RunView.Status(parse.GetValue(run)!, status, progress, decision);
                return CliErrors.Done;
            }
        );
        return command;
    }

    private static Command Watch()
    {
        var run = RunArgument();
        var command = new Command(
            "watch",
            "Follow a run to its end: exit 0 when it completed, 1 when it failed, was refused or cancelled."
        )
        {
            run,
        };
        command.SetClusterAction(
            async (parse, cluster, cancellationToken) =>
            {
                var coordinator = await Existing(cluster, parse.GetValue(run)!);
                var json = parse.GetValue(ClientOptions.Json);
                var status = await RunWatcher.WatchAsync(coordinator, json, cancellationToken);
                if (json)
                    JsonOutput.Write(status);
                else
                    Ended(parse.GetValue(run)!, status);
                return RunView.ExitCode(status.State);
            }
        );
        return command;
    }

    private static Command Approve()
    {
        var run = RunArgument();
        var note = new Option<string?>("--note") { Description = "Why (recorded with the approval)." };
        var command = new Command(
            "approve",
            "Approve a run waiting at its gate; shows the gate's evidence first. Needs the operator role; the "
                + "approval records your principal."
        )
        {
            run,
            note,
        };
        command.SetClusterAction(
            async (parse, cluster, cancellationToken) =>
            {
                var coordinator = await Existing(cluster, parse.GetValue(run)!);
                if (
                    (await coordinator.GetDecisions()).LastOrDefault() is { } decision
                    && !parse.GetValue(ClientOptions.Json)
                )
                    RunView.Evidence(decision);
                await coordinator.Approve(parse.GetValue(note));
                if (parse.GetValue(ClientOptions.Json))
                    JsonOutput.Write(new { run = parse.GetValue(run), approved = true });
                else
                    Console.WriteLine("approved");
                return CliErrors.Done;
            }
        );
        return command;
    }

    private static Command Cancel()
    {
        var run = RunArgument();
        var command = new Command(
            "cancel",
            "Stop a run and all its work on every silo; finished artifacts are kept; nothing is released. Needs the "
                + "operator role."
        )
        {
            run,
        };
        command.SetClusterAction(
            async (parse, cluster, cancellationToken) =>
            {
                var status = await (await Existing(cluster, parse.GetValue(run)!)).Cancel();
                if (parse.GetValue(ClientOptions.Json))
                    JsonOutput.Write(status);
                else
                    Console.WriteLine($"{parse.GetValue(run)}: {RunView.Describe(status.State)}");
                return CliErrors.Done;
            }
        );
        return command;
    }

    private static Command Retry()
    {
        var run = RunArgument();
        var command = new Command("retry", "Continue a failed run from its last finished stage.") { run };
        command.SetClusterAction(
            async (parse, cluster, cancellationToken) =>
            {
                var coordinator = await Existing(cluster, parse.GetValue(run)!);
                var before = (await coordinator.GetPipelineStatus()).State;
                if (before != WorkState.Failed)
                    throw new InvalidOperationException(
                        $"run {parse.GetValue(run)} is {RunView.Describe(before)}; only a failed run is retried."
                    );
                var status = await coordinator.Retry();
                if (parse.GetValue(ClientOptions.Json))
                    JsonOutput.Write(status);
                else
                    Console.WriteLine($"{parse.GetValue(run)}: {RunView.Describe(status.State)}");
                return CliErrors.Done;
            }
        );
        return command;
    }

    private static Command Export()
    {
        var run = RunArgument();
        var to = new Option<string>("--to")
        {
            Description = "Folder to write the release into (replaced whole, only once all of it arrived).",
            Required = true,
        };
        var internalReport = new Option<string?>("--internal-report")
        {
            Description =
                "Also write the run's internal report to this file: which released file is which sample, and its "
                + "nearest real records. It names real records; never share it. Needs the operator token.",
        };
        var command = new Command(
            "export",
            "Download a finished run's release (or its report alone, when refused), checking every file's SHA-256."
        )
        {
            run,
            to,
            internalReport,
        };
        command.SetClusterAction(
            async (parse, cluster, cancellationToken) =>
            {
                var coordinator = await Existing(cluster, parse.GetValue(run)!);
                var status = await coordinator.GetPipelineStatus();
                if (
                    status.State is not (WorkState.Running or WorkState.NotStarted)
                    && await coordinator.GetRelease() is null
                )
                {
                    // Ended before a release was written (refused at a gate, failed or cancelled):
                    // nothing to download.
                    Ended(parse.GetValue(run)!, status);
                    Console.Error.WriteLine(
                        "nothing was written for this run, so there is nothing to export (synth run status "
                            + "shows the gate's evidence)."
                    );
                    return RunView.ExitCode(status.State);
                }
                // The role is checked before anything is written: a refused export leaves nothing behind.
                if (parse.GetValue(internalReport) is not null)
                    await coordinator.GetInternalReport();
                var manifest = await ReleaseExporter.ExportAsync(
                    coordinator,
                    parse.GetValue(to)!,
                    null,
                    cancellationToken
                );
                if (parse.GetValue(internalReport) is { } path)
                    await ReleaseExporter.ExportInternalReportAsync(coordinator, path, cancellationToken);
                if (parse.GetValue(ClientOptions.Json))
                    JsonOutput.Write(
                        new
                        {
                            run = parse.GetValue(run),
                            to = Path.GetFullPath(parse.GetValue(to)!),
                            manifest,
                        }
                    );
                else
                    Console.WriteLine(
                        $"{manifest.Files.Count} files "
                            + $"({manifest.Files.Sum(f => f.Artifact.Length) / 1024.0:F0} KiB) verified and "
                            + $"written to {Path.GetFullPath(parse.GetValue(to)!)}"
                            + (manifest.Released ? "" : "; the release was refused: report only")
                    );
                return manifest.Released ? CliErrors.Done : RunView.ExitCode(status.State);
            }
        );
        return command;
    }

    public static IPipelineCoordinatorGrain Coordinator(ClusterConnection cluster, string run) =>
        cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run);

    /// <summary>The coordinator of a run the cluster knows; an unknown name is a usage error, not an empty
    /// run.</summary>
    public static async Task<IPipelineCoordinatorGrain> Existing(ClusterConnection cluster, string run)
    {
        var coordinator = Coordinator(cluster, run);
        // Retried like the watch itself: a silo lost a moment ago leaves its gateway in the client's list for a while.
        if (
            (await RunWatcher.RetryingAsync(coordinator.GetPipelineStatus, CancellationToken.None)).State
            == WorkState.NotStarted
        )
            throw new ArgumentException($"no run named '{run}' on this cluster (synth run list shows them).");
        return coordinator;
    }

    public static void Ended(string run, PipelineStatus status)
    {
        if (status.State == WorkState.Completed)
            Console.WriteLine($"{run}: {RunView.Describe(status.State)}");
        else
            Console.Error.WriteLine($"{run}: {RunView.Describe(status.State)}: {status.Error}");
    }
}
