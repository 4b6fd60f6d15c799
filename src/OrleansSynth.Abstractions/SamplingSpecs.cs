namespace OrleansSynth.Abstractions;

/// <summary>
/// A sampling job: <paramref name="Count"/> images from a checkpoint, split into shards of
/// <paramref name="ShardSize"/>. Without <paramref name="ClassCounts"/> the labels are class-balanced; with it they
/// follow those proportions (e.g. the real training set's label counts). With <paramref name="Twins"/> it is
/// diversity-aware instead: twins for each of <paramref name="Count"/> records (real training records, or the synthetic
/// ones the twin spec names). A checkpoint that reads reports draws each sample from the report of a training record of
/// its label in <paramref name="PromptsFrom"/> (a registered dataset), so prompts keep the training split's
/// proportions.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SamplingJobSpec(
    [property: Id(0)] ArtifactRef Checkpoint,
    [property: Id(1)] int Count,
    [property: Id(2)] int ShardSize,
    [property: Id(3)] long Seed = 1,
    [property: Id(4)] double Guidance = 2.0,
    [property: Id(5)] int SamplerSteps = 50,
    [property: Id(6)] IReadOnlyList<int>? ClassCounts = null,
    [property: Id(7)] TwinSamplingSpec? Twins = null,
    [property: Id(8)] DiffusionSamplerKind Sampler = DiffusionSamplerKind.Ddim,
    [property: Id(9)] string? PromptsFrom = null
)
{
    // A record compares lists by reference; a spec read back from storage must still equal the caller's.
    public bool Equals(SamplingJobSpec? other) =>
        other is not null
        && (Checkpoint, Count, ShardSize, Seed, Guidance, SamplerSteps, Twins, Sampler, PromptsFrom)
            == (
                other.Checkpoint,
                other.Count,
                other.ShardSize,
                other.Seed,
                other.Guidance,
                other.SamplerSteps,
                other.Twins,
                other.Sampler,
                other.PromptsFrom
            )
        && (ClassCounts ?? []).SequenceEqual(other.ClassCounts ?? [])
        && (ClassCounts is null) == (other.ClassCounts is null);

    public override int GetHashCode() => HashCode.Combine(Checkpoint, Count, ShardSize, Seed, Twins);
}

/// <summary>
/// Diversity-aware sampling from a pseudo-conditioned checkpoint: the records are <c>Count</c> training records of
/// <paramref name="Dataset"/> spread evenly over the split, or of <paramref name="Sources"/> when given; shards are
/// ranges of them. Candidates are scored with the re-identification model the job calibrates on
/// <paramref name="Dataset"/> (<paramref name="EncoderSteps"/>, <paramref name="Alpha"/>, as the audit does) and with
/// <paramref name="FeatureExtractor"/>, the classifier the checkpoint was conditioned on.
/// The job's Guidance is ignored: <see cref="DiversityOptions.Guidance"/> is the starting scale.
/// </summary>
/// <param name="Sources">Synthetic records to twin instead of real ones: a student's own training set, so that its
/// samples, like the teacher's twins, spread over the records' variety while the student still trains on synthetic
/// images only (the teacher's twins it learns from were each drawn for a real record).</param>
[GenerateSerializer, Immutable]
public sealed record TwinSamplingSpec(
    [property: Id(0)] string Dataset,
    [property: Id(1)] ArtifactRef FeatureExtractor,
    [property: Id(2)] DiversityOptions Options,
    [property: Id(3)] int EncoderSteps = PipelineSpec.DefaultEncoderSteps,
    [property: Id(4)] double Alpha = 0.01,
    [property: Id(5)] SyntheticTrainingSet? Sources = null
);

/// <summary>What diversity-aware sampling did in one shard (see the ML library's TwinStatistics).</summary>
[GenerateSerializer, Immutable]
public sealed record TwinShardStatistics(
    [property: Id(0)] int Records,
    [property: Id(1)] int Twins,
    [property: Id(2)] int Extras,
    [property: Id(3)] int CandidatesDrawn,
    [property: Id(4)] int RejectedLinked,
    [property: Id(5)] int Retries,
    [property: Id(6)] int Skipped,
    [property: Id(7)] double MeanFinalGuidance,
    [property: Id(8)] double LowestFinalGuidance
);

/// <summary>One shard: samples with global indices [Start, Start + Count) of a job.</summary>
[GenerateSerializer, Immutable]
public sealed record SamplingShardSpec(
    [property: Id(0)] string JobId,
    [property: Id(1)] int ShardIndex,
    [property: Id(2)] int Start,
    [property: Id(3)] int Count,
    [property: Id(4)] SamplingJobSpec Job,
    [property: Id(5)] ArtifactRef? Reidentification = null
);

/// <summary>
/// A finished shard: its samples, <paramref name="SampleIds"/>, are in the artifact store as one bundle. A twin shard
/// reports <paramref name="Twins"/>; its bundle holds one sample per twinned record (none for a skipped one, two with
/// an extra).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SamplingShardResult(
    [property: Id(0)] int ShardIndex,
    [property: Id(1)] int Start,
    [property: Id(2)] int Count,
    [property: Id(3)] ArtifactRef Samples,
    [property: Id(4)] string Silo,
    [property: Id(5)] IReadOnlyList<string> SampleIds,
    [property: Id(6)] TwinShardStatistics? Twins = null
);

/// <param name="Shards">Every shard's result, once the job is complete; empty while it runs, so polls stay
/// small.</param>
/// <param name="Preparation">For twins, the training of the re-identification encoder before any shard starts, as this
/// activation saw it; null when it came from the cache or the job samples plainly.</param>
[GenerateSerializer, Immutable]
public sealed record SamplingJobStatus(
    [property: Id(0)] WorkState State,
    [property: Id(1)] int ShardsTotal,
    [property: Id(2)] int ShardsDone,
    [property: Id(3)] IReadOnlyList<SamplingShardResult> Shards,
    [property: Id(4)] string? Error,
    [property: Id(5)] WorkProgress? Preparation = null
);
