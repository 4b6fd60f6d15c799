namespace OrleansSynth.Abstractions;

[GenerateSerializer]
public enum WorkState
{
    NotStarted,
    Running,
    Completed,
    Failed,
}
