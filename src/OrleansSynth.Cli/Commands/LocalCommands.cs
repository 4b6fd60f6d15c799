using System.CommandLine;
using OrleansSynth.Cli.Client;
using OrleansSynth.Cli.Connection;

namespace OrleansSynth.Cli.Commands;

/// <summary><c>synth local start|status|stop</c>: the silo process that serves this machine when no cluster is
/// named.</summary>
internal static class LocalCommands
{
    public static Command Create()
    {
        var start = new Command("start", "Start the local silo on --data (or find it running) and print its gateway.");
        start.SetAction(
            (parse, cancellationToken) =>
                CliErrors.Run(async () =>
                {
                    var (silo, started) = await LocalSilo.EnsureAsync(
                        parse.GetValue(ClientOptions.Data)!,
                        line => Console.Error.WriteLine(line),
                        cancellationToken
                    );
                    Print(parse, silo, started ? "started" : "running");
                    return CliErrors.Done;
                })
        );
        var status = new Command("status", "Whether a local silo runs on --data, and its gateway.");
        status.SetAction(parse =>
        {
            if (LocalSilo.Find(Path.GetFullPath(parse.GetValue(ClientOptions.Data)!)) is { } silo)
                Print(parse, silo, "running");
            else
                Console.WriteLine("no local silo runs on this data folder");
            return CliErrors.Done;
        });
        var stop = new Command(
            "stop",
            "Stop the local silo on --data gracefully; running work resumes when it starts again."
        );
        stop.SetAction(
            (parse, cancellationToken) =>
                CliErrors.Run(async () =>
                {
                    Console.WriteLine(
                        await LocalSilo.StopAsync(parse.GetValue(ClientOptions.Data)!, cancellationToken)
                            ? "stopped"
                            : "no local silo runs on this data folder"
                    );
                    return CliErrors.Done;
                })
        );
        return new Command(
            "local",
            "The local silo: a silo process on this machine's files, used when no cluster is named."
        )
        {
            start,
            status,
            stop,
        };
    }

    private static void Print(ParseResult parse, LocalSilo.State silo, string state)
    {
        if (parse.GetValue(ClientOptions.Json))
            JsonOutput.Write(
                new
                {
                    state,
                    pid = silo.Pid,
                    gateway = $"127.0.0.1:{silo.GatewayPort}",
                    metrics = $"http://127.0.0.1:{silo.MetricsPort}/metrics",
                }
            );
        else
            Console.WriteLine(
                $"local silo {state}: pid {silo.Pid}, gateway 127.0.0.1:{silo.GatewayPort}, metrics "
                    + $"http://127.0.0.1:{silo.MetricsPort}/metrics"
            );
    }
}
