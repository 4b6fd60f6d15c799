using System.CommandLine;
using OrleansSynth.Cli.Commands;
using Spectre.Console;

// In logs and pipes Spectre.Console would wrap at 80 columns, splitting paths across lines.
if (!AnsiConsole.Profile.Capabilities.Interactive) AnsiConsole.Profile.Width = 200;

var root = new RootCommand("OrleansSynth: shareable synthetic medical images, with evidence that no patient can be singled out.")
{
    TrainCommand.Create(),
    SampleCommand.Create(),
    AuditCommand.Create(),
    DemoCommand.Create(),
    RunCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
