namespace OrleansSynth.Grains;

/// <summary>
/// A grain that runs background work between calls. Orleans collects activations that receive no calls for a
/// while, and background tasks do not count as calls, so while the work runs the activation defers its own
/// collection.
/// </summary>
public abstract class LongRunningGrain : Grain
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    protected void KeepActiveWhile(Func<bool> working) =>
        this.RegisterGrainTimer(() =>
        {
            if (working()) DelayDeactivation(2 * Period);
            return Task.CompletedTask;
        }, Period, Period);
}
