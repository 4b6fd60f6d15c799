namespace OrleansSynth.Grains;

/// <summary>
/// Whether a failure is the silo going away (lost, stopping, or the call cancelled by a shutdown) rather than an error
/// in the work: such work is left unfinished and resumes, never marked failed.
/// </summary>
public static class TransientFailures
{
    public static bool IsSiloLoss(Exception e) =>
        e
            is SiloUnavailableException
                or TimeoutException
                or OrleansMessageRejectionException
                or OperationCanceledException;
}
