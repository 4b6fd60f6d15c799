using System.CommandLine;
using OrleansSynth.Cli.Connection;

namespace OrleansSynth.Cli.Commands;

/// <summary>The `synth` command line: every command and the options they share.</summary>
internal static class SynthCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand(
            "synth: shareable synthetic medical images, each audited against every real training record before "
                + "release. A thin client of an OrleansSynth cluster (or of a local silo)."
        )
        {
            RunCommands.Create(),
            DemoCommand.Create(),
            AuditCommands.Create(),
            DatasetsCommands.Create(),
            LocalCommands.Create(),
        };
        ClientOptions.AddTo(root);
        return root;
    }
}
