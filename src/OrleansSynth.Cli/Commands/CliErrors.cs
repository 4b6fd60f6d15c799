using OrleansSynth.ML.Data;
using Spectre.Console;

namespace OrleansSynth.Cli.Commands;

/// <summary>Turns the errors a user can cause (bad paths, bad files, bad options) into one clear line and exit code 2.</summary>
internal static class CliErrors
{
    public const int UserError = 2;

    public static async Task<int> Run(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is DatasetFormatException or FileNotFoundException or DirectoryNotFoundException
                                      or InvalidDataException or ArgumentException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return UserError;
        }
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLine("[yellow]cancelled[/]; progress so far was checkpointed.");
            return 130;
        }
    }
}
