using OrleansSynth.Abstractions;
using OrleansSynth.Cli.Connection;

namespace OrleansSynth.Cli.Commands;

/// <summary>
/// Exit codes that mean something, and one clear line on stderr for every error a user can meet: 0 done, 1 the run
/// failed (or was refused or cancelled), 2 bad usage or input (including a refused operator token), 3 the cluster
/// could not be reached.
/// </summary>
internal static class CliErrors
{
    public const int Done = 0;
    public const int RunFailed = 1;
    public const int UserError = 2;
    public const int Unreachable = 3;
    public const int Interrupted = 130;

    public static async Task<int> Run(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (ClusterUnreachableException e)
        {
            return Fail(e.Message, Unreachable);
        }
        catch (Exception e)
            when (e
                    is SiloUnavailableException
                        or Orleans.Runtime.Messaging.ConnectionFailedException
                        or OrleansMessageRejectionException
            )
        {
            return Fail($"lost the cluster: {e.Message}", Unreachable);
        }
        catch (Exception e)
            when (e
                    is ArgumentException
                        or FileNotFoundException
                        or DirectoryNotFoundException
                        or InvalidDataException
                        or AccessRefusedException
                        or DatasetRefusedException
                        or InvalidOperationException
                        or UnauthorizedAccessException
            )
        {
            return Fail(e.Message, UserError);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted; work submitted to the cluster goes on.");
            return Interrupted;
        }
    }

    // Plain stderr: one unwrapped line a script can match, whatever the console width.
    private static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }
}
