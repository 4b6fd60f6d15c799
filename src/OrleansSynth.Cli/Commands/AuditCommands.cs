using System.CommandLine;
using OrleansSynth.Abstractions;
using OrleansSynth.Cli.Client;
using OrleansSynth.Cli.Connection;
using OrleansSynth.Cli.Specs;
using Spectre.Console;

namespace OrleansSynth.Cli.Commands;

/// <summary><c>synth audit ...</c>: audit as a service — a folder of synthetic images made elsewhere, audited by the
/// cluster.</summary>
internal static class AuditCommands
{
    public static Command Create() =>
        new("audit", "Audit a folder of synthetic images (made anywhere) against a real dataset, on the cluster.")
        {
            Submit(),
            Status(),
            Export(),
        };

    private static Argument<string> NameArgument() => new("AUDIT") { Description = "The audit's name." };

    private static Command Submit()
    {
        var dataset = new Option<string>("--dataset")
        {
            Description = "Real dataset: a name or a path the silos can read.",
            Required = true,
        };
        var synthetic = new Option<string>("--synthetic")
        {
            Description = "Folder of synthetic PNG images, at a path the silos can read.",
            Required = true,
        };
        var name = new Option<string?>("--name") { Description = "Audit name (default: a fresh one)." };
        var alpha = new Option<double>("--alpha")
        {
            Description = "Target false-flag rate on unseen real images.",
            DefaultValueFactory = _ => AuditDefaults.Alpha,
        };
        var encoderSteps = new Option<int>("--encoder-steps")
        {
            Description = "Training steps of the re-identification encoder.",
            DefaultValueFactory = _ => AuditDefaults.EncoderSteps,
        };
        var canaries = new Option<int>("--canaries")
        {
            Description = "Near-copies of training records planted to measure the audit's own recall.",
            DefaultValueFactory = _ => AuditDefaults.Canaries,
        };
        var verifierSteps = new Option<int>("--verifier-steps")
        {
            Description =
                "Training steps of the pair verifier that makes the verdicts (trained once per dataset, then "
                + "cached); 0: the encoder's link rule decides.",
            DefaultValueFactory = _ => AuditDefaults.VerifierSteps,
        };
        var wait = new Option<bool>("--wait")
        {
            Description = "Wait for the audit and print its summary: exit 0 when nothing was flagged, 1 otherwise.",
        };
        var command = new Command("submit", "Submit an audit of a synthetic image folder; prints its name.")
        {
            dataset,
            synthetic,
            name,
            alpha,
            encoderSteps,
            canaries,
            verifierSteps,
            wait,
        };
        command.SetAction(
            (parse, cancellationToken) =>
                CliErrors.Run(async () =>
                {
                    var auditName = parse.GetValue(name)
                        ?? $"audit-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..4]}";
                    var spec = new ExternalAuditSpec(
                        parse.GetValue(dataset)!,
                        Path.GetFullPath(parse.GetValue(synthetic)!),
                        parse.GetValue(alpha),
                        parse.GetValue(encoderSteps),
                        parse.GetValue(canaries),
                        parse.GetValue(verifierSteps)
                    );
                    await using var cluster = await ClientOptions.ConnectAsync(parse, cancellationToken);
                    var audit = cluster.Grains.GetGrain<IExternalAuditGrain>(auditName);
                    var status = await audit.Submit(spec);
                    if (!parse.GetValue(wait))
                    {
                        if (parse.GetValue(ClientOptions.Json))
                            JsonOutput.Write(new { name = auditName, status });
                        else
                            Console.WriteLine(auditName);
                        return CliErrors.Done;
                    }
                    while (status.State == WorkState.Running)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                        status = await RunWatcher.RetryingAsync(audit.GetStatus, cancellationToken);
                    }
                    Show(auditName, status, parse.GetValue(ClientOptions.Json));
                    return status.State == WorkState.Completed && status.Summary!.Flagged == 0
                        ? CliErrors.Done
                        : CliErrors.RunFailed;
                })
        );
        return command;
    }

    private static Command Status()
    {
        var name = NameArgument();
        var command = new Command("status", "An audit's state, progress and summary.") { name };
        command.SetClusterAction(
            async (parse, cluster, cancellationToken) =>
            {
                var status = await (await Existing(cluster, parse.GetValue(name)!)).GetStatus();
                Show(parse.GetValue(name)!, status, parse.GetValue(ClientOptions.Json));
                return CliErrors.Done;
            }
        );
        return command;
    }

    private static Command Export()
    {
        var name = NameArgument();
        var to = new Option<string>("--to") { Description = "Report file (JSON).", Required = true };
        var @internal = new Option<bool>("--internal")
        {
            Description =
                "Write the internal report instead: every sample's verdict with its nearest real records. It names "
                + "real records; never share it. Needs the operator token.",
        };
        var command = new Command(
            "export",
            "Download a finished audit's report: the summary and aggregate metrics, or with --internal every "
                + "sample's verdict."
        )
        {
            name,
            to,
            @internal,
        };
        command.SetClusterAction(
            async (parse, cluster, cancellationToken) =>
            {
                var audit = await Existing(cluster, parse.GetValue(name)!);
                var status = await audit.GetStatus();
                if (status.State != WorkState.Completed)
                    throw new InvalidOperationException(
                        $"audit {parse.GetValue(name)} is {status.State.ToString().ToLowerInvariant()}: "
                            + $"{status.Error}"
                    );
                if (parse.GetValue(@internal))
                    await ReleaseExporter.DownloadFileAsync(
                        (offset, count) => audit.ReadInternalReport(offset, count),
                        status.InternalReport!,
                        parse.GetValue(to)!,
                        cancellationToken
                    );
                else
                    await ReleaseExporter.DownloadFileAsync(
                        audit.ReadReport,
                        status.Report!,
                        parse.GetValue(to)!,
                        cancellationToken
                    );
                Console.WriteLine($"report: {Path.GetFullPath(parse.GetValue(to)!)}");
                return CliErrors.Done;
            }
        );
        return command;
    }

    private static async Task<IExternalAuditGrain> Existing(ClusterConnection cluster, string name)
    {
        var audit = cluster.Grains.GetGrain<IExternalAuditGrain>(name);
        if ((await audit.GetStatus()).State == WorkState.NotStarted)
            throw new ArgumentException($"no audit named '{name}' on this cluster.");
        return audit;
    }

    private static void Show(string name, ExternalAuditStatus status, bool json)
    {
        if (json)
        {
            JsonOutput.Write(
                new
                {
                    name,
                    status.State,
                    status.Images,
                    status.TilesDone,
                    status.TilesTotal,
                    status.Summary,
                    status.Error,
                }
            );
            return;
        }
        AnsiConsole.WriteLine(
            $"audit {name}: {status.State.ToString().ToLowerInvariant()}, {status.Images} images, "
                + $"{status.TilesDone}/{status.TilesTotal} tiles"
        );
        if (status.Summary is { } s)
        {
            AnsiConsole.WriteLine(
                $"  flagged (re-identified): {s.Flagged} of {s.Total} ({s.Rate:P2}, 95% upper bound "
                    + $"{s.RateUpper:P2}) at alpha {s.Alpha}"
            );
            AnsiConsole.WriteLine(
                $"  canaries caught: {s.CanariesCaught} of {s.CanariesPlanted} ({s.CanaryRecall:P1})"
            );
            AnsiConsole.WriteLine($"  singling-out risk (Anonymeter, whole training set): {s.SinglingOutRisk:F4}");
        }
        if (status.Error is not null)
            AnsiConsole.WriteLine($"  {status.Error}");
    }
}
