using System.CommandLine;
using OrleansSynth.Cli.Connection;

namespace OrleansSynth.Cli.Commands;

/// <summary>
/// The scaffold of every command that talks to the cluster: connect (or start and reuse the local silo), run the
/// command's body, and map what it throws to an exit code and one line on stderr (<see cref="CliErrors"/>).
/// </summary>
internal static class ClusterCommand
{
    public static void SetClusterAction(
        this Command command,
        Func<ParseResult, ClusterConnection, CancellationToken, Task<int>> action
    ) =>
        command.SetAction(
            (parse, cancellationToken) =>
                CliErrors.Run(async () =>
                {
                    await using var cluster = await ClientOptions.ConnectAsync(parse, cancellationToken);
                    return await action(parse, cluster, cancellationToken);
                })
        );
}
