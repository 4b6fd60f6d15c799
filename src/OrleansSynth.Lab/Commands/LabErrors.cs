using OrleansSynth.ML.Data;

namespace OrleansSynth.Lab.Commands;

/// <summary>
/// synth-lab's errors (it runs in-process, without a cluster): what a user can cause (bad paths, files or options)
/// becomes one clear line and exit code 2.
/// </summary>
internal static class LabErrors
{
    public const int UserError = 2;

    public static async Task<int> Run(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e)
            when (e
                    is DatasetFormatException
                        or FileNotFoundException
                        or DirectoryNotFoundException
                        or InvalidDataException
                        or ArgumentException
            )
        {
            // Plain stderr: one unwrapped line a script can match, whatever the console width.
            Console.Error.WriteLine($"error: {e.Message}");
            return UserError;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled; progress so far was checkpointed.");
            return 130;
        }
    }
}
