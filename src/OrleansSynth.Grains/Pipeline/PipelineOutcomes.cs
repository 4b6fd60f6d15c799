using OrleansSynth.Abstractions;
using OrleansSynth.ML.Diversity;

namespace OrleansSynth.Grains.Pipeline;

/// <summary>The teacher's side of a finished run.</summary>
/// <param name="Samples">The teacher's samples (or twins) that passed the filter.</param>
/// <param name="TwinShards">Per shard, when the teacher's samples are twins; empty otherwise.</param>
internal sealed record TeacherOutcome(
    TrainingStatus Training,
    SyntheticTrainingSet Samples,
    AuditStatus Audit,
    IReadOnlyList<TwinStatistics> TwinShards
);

/// <summary>The student's side of a finished run.</summary>
/// <param name="Samples">The student samples its own audit did not flag.</param>
/// <param name="TwinShards">Per shard, when the student's samples are twins of its training set; empty
/// otherwise.</param>
internal sealed record StudentOutcome(
    TrainingStatus Training,
    SyntheticTrainingSet Samples,
    AuditStatus Audit,
    int FilteredOut,
    IReadOnlyList<TwinStatistics> TwinShards
);
