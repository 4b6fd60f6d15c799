using System.Text.Json.Serialization;

namespace OrleansSynth.Abstractions;

/// <summary>What one training run learns, from which data, and for how long.</summary>
/// <param name="Dataset">Key of a registered <see cref="IDatasetGrain"/>; unused (empty) when <paramref
/// name="Synthetic"/> is set.</param>
/// <param name="Synthetic">Train on these synthetic samples only (a distilled student); the run then reads no real
/// image.</param>
/// <param name="Limit">Train on the first N training records only (0: all).</param>
/// <param name="FeatureExtractor">A diffusion run only: a trained classifier whose penultimate features condition the
/// model per record (pseudo-conditioning, for diversity-aware twins).</param>
/// <param name="KnownTokensFrom">A diffusion run on prompted synthetic samples (a student of a teacher that reads
/// reports): the teacher's checkpoint, whose text encoder's known tokens the run keeps (nothing else of it). A student
/// then knows no token its teacher did not; the teacher counted them by patient, which the samples' prompts
/// cannot.</param>
[GenerateSerializer, Immutable]
public sealed record TrainingRunSpec(
    [property: Id(0)] string Dataset,
    [property: Id(1)] int Steps,
    [property: Id(2)] int BatchSize = 64,
    [property: Id(3)] int BaseChannels = 32,
    [property: Id(4)] int Timesteps = 1000,
    [property: Id(5)] double LearningRate = 1e-3,
    [property: Id(6)] long Seed = 1,
    [property: Id(7)] int CheckpointEvery = 200,
    [property: Id(8)] int Limit = 0,
    [property: Id(9)] TrainingKind Kind = TrainingKind.Diffusion,
    [property: Id(10)] SyntheticTrainingSet? Synthetic = null,
    [property: Id(11)] ArtifactRef? FeatureExtractor = null,
    // Left out of the JSON when null, so the fingerprints of runs stored before it existed still match.
    [property: Id(12), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ArtifactRef? KnownTokensFrom = null
);

/// <summary>The samples of some sample bundles that a run may train on (e.g. those the audit filter kept).</summary>
[GenerateSerializer, Immutable]
public sealed record SyntheticTrainingSet(
    [property: Id(0)] IReadOnlyList<ArtifactRef> Bundles,
    [property: Id(1)] IReadOnlyList<string> SampleIds
)
{
    // A record compares lists by reference; a spec read back from storage must still equal the caller's.
    public bool Equals(SyntheticTrainingSet? other) =>
        other is not null && Bundles.SequenceEqual(other.Bundles) && SampleIds.SequenceEqual(other.SampleIds);

    public override int GetHashCode() => HashCode.Combine(Bundles.Count, SampleIds.Count);
}
