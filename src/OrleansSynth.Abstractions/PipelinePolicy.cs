namespace OrleansSynth.Abstractions;

/// <summary>The conditions under which a pipeline run may distil a student from its synthetic set.</summary>
/// <param name="MinimumSamples">Filtered samples needed to train the student.</param>
/// <param name="RequireApproval">A person must approve before the gate opens.</param>
[GenerateSerializer, Immutable]
public sealed record PipelinePolicy(
    [property: Id(0)] int MinimumSamples,
    [property: Id(1)] bool RequireApproval);

/// <summary>The synthetic set after the filter: every flagged sample removed.</summary>
[GenerateSerializer, Immutable]
public sealed record FilteredSet(
    [property: Id(0)] IReadOnlyList<string> KeptSampleIds,
    [property: Id(1)] IReadOnlyList<string> RemovedSampleIds);
