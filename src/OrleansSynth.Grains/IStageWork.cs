using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains;

/// <summary>
/// The persisted state every stage grain (a training run, a sampling job, an audit) shares: the spec it was started
/// with, where its work stands, and why it failed. <see cref="LongRunningGrain"/>'s lifecycle works on it.
/// </summary>
public interface IStageWork<TSpec>
    where TSpec : class
{
    TSpec? Spec { get; set; }
    WorkState State { get; set; }
    string? Error { get; set; }
}
