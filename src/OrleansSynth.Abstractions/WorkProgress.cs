namespace OrleansSynth.Abstractions;

/// <summary>How far one piece of a run's work has come.</summary>
/// <param name="Name">The work's grain id, e.g. "run/teacher"; for a model an audit or a twins job trains first, the
/// grain id and the model, e.g. "run/teacher-audit (pair verifier)".</param>
/// <param name="Unit">What is counted: "steps", "shards" or "tiles".</param>
[GenerateSerializer, Immutable]
public sealed record WorkProgress(
    [property: Id(0)] string Name,
    [property: Id(1)] WorkState State,
    [property: Id(2)] long Done,
    [property: Id(3)] long Total,
    [property: Id(4)] string Unit
);
