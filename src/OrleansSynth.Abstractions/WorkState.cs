namespace OrleansSynth.Abstractions;

[GenerateSerializer]
public enum WorkState
{
    NotStarted,
    Running,
    Completed,
    Failed,

    /// <summary>Finished, but its result did not pass a privacy gate: nothing was released.</summary>
    Refused,

    /// <summary>Stopped by an operator: finished artifacts are kept, nothing more runs, nothing is released.</summary>
    Cancelled,
}
