using System.CommandLine;
using OrleansSynth.Abstractions;
using OrleansSynth.Cli.Client;
using OrleansSynth.Cli.Connection;
using OrleansSynth.Cli.Specs;
using Spectre.Console;

namespace OrleansSynth.Cli.Commands;

/// <summary>
/// <c>synth demo</c>: the whole pipeline (diversity-aware twins unless --strategy says otherwise) on Fashion-MNIST,
/// submitted like any run — to a local silo on files under --out when no cluster is named — followed to its end and
/// exported to --out/release. Re-running it resumes the same run.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset")
        {
            Description =
                "quick (small models, 300 records twinned or 300 samples, on a 6,000-record slice of Fashion-MNIST: "
                + "a release in 5 to 7 minutes), default (a 2,400-step teacher, 4,500 records twinned three times or "
                + "1,500 samples; the users' audit, whose 1,000-step encoder and 14,000-step pair verifier are trained "
                + "on first use and cached per dataset) or long (under two hours on 2 cores once the audit models "
                + "are cached: a 4,800-step teacher of 48 base channels, 4,500 records twinned three times or 3,000 "
                + "samples, the same audit).",
            DefaultValueFactory = _ => "default",
        };
        preset.AcceptOnlyFromAmong(DemoPresets.Names);
        var output = new Option<string>("--out")
        {
            Description = "Folder for the release (and, on a local silo, its data).",
            DefaultValueFactory = _ => "out/demo",
        };
        var dataset = new Option<string?>("--dataset")
        {
            Description =
                "Real dataset (a name or a path the silos can read); default: fashion-mnist, and for the quick preset "
                + $"{DemoPresets.QuickDataset} (its first 6,000 training records).",
        };
        var run = new Option<string?>("--run")
        {
            Description = "Run name (default: demo-<preset>-<strategy>); the same name resumes that run.",
        };
        var strategy = new Option<string>("--strategy")
        {
            Description =
                "diversity-aware (twins of real records; no model released), distillation (a student model trained "
                + "on filtered teacher samples, and its samples) or diversity-aware+distillation (a student trained "
                + "on filtered twins, and its twins).",
            DefaultValueFactory = _ => PipelineSpecFile.StrategyName(DemoPresets.DefaultStrategy),
        };
        strategy.AcceptOnlyFromAmong([.. PipelineSpecFile.Strategies.Keys]);
        var keepSilo = new Option<bool>("--keep-silo")
        {
            Description = "Leave the local silo this command started running afterwards.",
        };
        var internalReport = new Option<string?>("--internal-report")
        {
            Description =
                "Also write the run's internal report here: which released file is which sample, and its nearest "
                + "real records. It names real records; never share it.",
        };
        var command = new Command(
            "demo",
            "Run the whole pipeline on Fashion-MNIST (a local silo unless --cluster), export the release and print "
                + "where the report is."
        )
        {
            preset,
            output,
            dataset,
            run,
            strategy,
            keepSilo,
            internalReport,
        };
        command.SetAction(
            (parse, cancellationToken) =>
                CliErrors.Run(async () =>
                {
                    var outDir = Path.GetFullPath(parse.GetValue(output)!);
                    var presetName = parse.GetValue(preset)!;
                    var strategyName = parse.GetValue(strategy)!;
                    var runName = parse.GetValue(run) ?? $"demo-{presetName}-{strategyName.Replace('+', '-')}";
                    var datasetName = parse.GetValue(dataset) ?? DemoPresets.DatasetFor(presetName);
                    var spec = DemoPresets.For(
                        presetName,
                        datasetName,
                        outDir,
                        PipelineSpecFile.ParseStrategy(strategyName)!.Value
                    );

                    var local = ClusterTarget.Resolve(parse.GetValue(ClientOptions.Cluster)) is null;
                    var dataRoot = Path.Combine(outDir, "data");
                    var startedSilo = local && LocalSilo.Find(dataRoot) is null;
                    ClusterConnection? cluster = null;
                    try
                    {
                        cluster = await ClientOptions.ConnectAsync(parse, cancellationToken, dataRoot);
                        var coordinator = RunCommands.Coordinator(cluster, runName);
                        await cluster.Grains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key).Submit(runName, spec);
                        AnsiConsole.WriteLine(
                            $"pipeline {runName} on {datasetName}"
                                + (
                                    datasetName == DemoPresets.QuickDataset
                                        ? " (a slice: the first 6,000 of Fashion-MNIST's 60,000 training records)"
                                        : ""
                                )
                                + $", {(local ? $"a local silo; data in {dataRoot}" : cluster.Target.ToString())}"
                        );
                        var status = await RunWatcher.WatchAsync(coordinator, quiet: false, cancellationToken);
                        // A run refused at a gate ends before any release is written: then there is
                        // nothing to export.
                        if (
                            status.State is WorkState.Completed or WorkState.Refused
                            && await coordinator.GetRelease() is not null
                        )
                        {
                            var release = Path.Combine(outDir, "release");
                            await ReleaseExporter.ExportAsync(coordinator, release, null, cancellationToken);
                            if (parse.GetValue(internalReport) is { } path)
                            {
                                await ReleaseExporter.ExportInternalReportAsync(coordinator, path, cancellationToken);
                                AnsiConsole.WriteLine(
                                    $"internal report (names real records; not for sharing): {Path.GetFullPath(path)}"
                                );
                            }
                            AnsiConsole.WriteLine(
                                $"report: {Path.Combine(release, status.ReportFile ?? "report.json")}"
                            );
                        }
                        RunCommands.Ended(runName, status);
                        return RunView.ExitCode(status.State);
                    }
                    finally
                    {
                        if (cluster is not null)
                            await cluster.DisposeAsync();
                        // Stop what this command started, unless asked not to or interrupted (then the run goes on
                        // there).
                        if (startedSilo && !parse.GetValue(keepSilo) && !cancellationToken.IsCancellationRequested)
                            await LocalSilo.StopAsync(dataRoot, CancellationToken.None);
                    }
                })
        );
        return command;
    }
}
