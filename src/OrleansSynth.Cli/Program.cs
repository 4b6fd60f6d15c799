using OrleansSynth.Cli.Commands;
using Spectre.Console;

// In logs and pipes Spectre.Console would wrap at 80 columns, splitting paths across lines.
if (!AnsiConsole.Profile.Capabilities.Interactive)
    AnsiConsole.Profile.Width = 200;

return await SynthCommand.Create().Parse(args).InvokeAsync();
