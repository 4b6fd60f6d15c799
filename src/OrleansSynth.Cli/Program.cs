using System.CommandLine;
using OrleansSynth.Cli.Commands;

var root = new RootCommand("OrleansSynth: shareable synthetic medical images, with evidence that no patient can be singled out.")
{
    TrainCommand.Create(),
    SampleCommand.Create(),
    AuditCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
