using System.CommandLine;
using OrleansSynth.Cli.Commands;
using OrleansSynth.Cli.Connection;
using Spectre.Console;

// In logs and pipes Spectre.Console would wrap at 80 columns, splitting paths across lines.
if (!AnsiConsole.Profile.Capabilities.Interactive) AnsiConsole.Profile.Width = 200;

var root = new RootCommand("synth: shareable synthetic medical images, with evidence that no patient can be singled out. A thin client of an OrleansSynth cluster (or of a local silo).")
{
    RunCommands.Create(),
    DemoCommand.Create(),
    AuditCommands.Create(),
    DatasetsCommands.Create(),
    LocalCommands.Create(),
};
ClientOptions.AddTo(root);
return await root.Parse(args).InvokeAsync();
