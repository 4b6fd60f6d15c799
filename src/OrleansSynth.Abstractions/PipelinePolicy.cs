namespace OrleansSynth.Abstractions;

/// <summary>The conditions under which a pipeline run may distil a student from its synthetic set, and release
/// it.</summary>
/// <param name="MinimumSamples">Filtered samples needed to train the student.</param>
/// <param name="RequireApproval">A person must approve before the gate opens.</param>
/// <param name="MinimumCanaryRecall">An audit that flags fewer of its own planted near-copies than this proves nothing,
/// and every gate refuses it.</param>
/// <param name="StudentFlaggedRateCeiling">
/// The student is released only when the upper end of the 95% interval of its flagged rate is under this. Unseen real
/// images are flagged at about alpha by construction, so the ceiling must sit above alpha, with room for the interval.
/// </param>
[GenerateSerializer, Immutable]
public sealed record PipelinePolicy(
    [property: Id(0)] int MinimumSamples,
    [property: Id(1)] bool RequireApproval,
    [property: Id(2)] double MinimumCanaryRecall = 0.95,
    [property: Id(3)] double StudentFlaggedRateCeiling = 0.05
);

/// <summary>The synthetic set after the filter: every flagged sample removed.</summary>
[GenerateSerializer, Immutable]
public sealed record FilteredSet(
    [property: Id(0)] IReadOnlyList<string> KeptSampleIds,
    [property: Id(1)] IReadOnlyList<string> RemovedSampleIds
);
