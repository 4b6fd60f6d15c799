using System.CommandLine;
using OrleansSynth.Lab.Commands;
using OrleansSynth.ML.Runtime;
using Spectre.Console;

// First: it may start the process again in place, under the allocator settings.
NativeAllocator.ConfigureAtStart();

// In logs and pipes Spectre.Console would wrap at 80 columns, splitting paths across lines.
if (!AnsiConsole.Profile.Capabilities.Interactive)
    AnsiConsole.Profile.Width = 200;

var root = new RootCommand(
    "synth-lab: OrleansSynth's ML tools in this process, without a cluster (train, sample, audit a folder)."
)
{
    TrainCommand.Create(),
    SampleCommand.Create(),
    AuditCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
