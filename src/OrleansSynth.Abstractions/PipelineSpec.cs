namespace OrleansSynth.Abstractions;

/// <summary>One pipeline run: what to learn from, which strategy makes the synthetic data, how big each stage is, and
/// when the gate opens.</summary>
/// <param name="Dataset">The real dataset (a name or a path the silos can read).</param>
/// <param name="Teacher">Teacher diffusion run (its Dataset is filled in from <paramref name="Dataset"/>).</param>
/// <param name="Student">Student diffusion run (trains on the filtered synthetic set only); unused by <see
/// cref="PipelineStrategy.DiversityAware"/>.</param>
/// <param name="SampleCount">Synthetic samples to draw; for the diversity-aware strategies, real records to
/// twin.</param>
/// <param name="Output">Where the client exports the release by default (the release itself lives in the artifact
/// store).</param>
/// <param name="Canaries">Near-copies of training records each audit plants in its scan to measure its own
/// recall.</param>
/// <param name="SamplerSteps">Denoising steps of <paramref name="Sampler"/> (network evaluations per sample, doubled by
/// guidance).</param>
/// <param name="VerifierSteps">Training steps of the audits' pair verifier (trained once per dataset and cached); 0:
/// verdicts by the encoder's link rule.</param>
/// <param name="VerifierBatch">Pairs per pair-verifier training step.</param>
/// <param name="VerifierLookAlikes">How many of each record's nearest other records the verifier's negatives are drawn
/// among.</param>
/// <param name="Description">What the release's cards say about the data, its use, licence and contact.</param>
/// <param name="MatchRealLabels">Sample labels in the real training set's proportions instead of
/// class-balanced.</param>
[GenerateSerializer, Immutable]
public sealed record PipelineSpec(
    [property: Id(0)] string Dataset,
    [property: Id(1)] TrainingRunSpec Teacher,
    [property: Id(2)] TrainingRunSpec Student,
    [property: Id(3)] int SampleCount,
    [property: Id(4)] int ShardSize,
    [property: Id(5)] PipelinePolicy Gate,
    [property: Id(6)] string Output,
    [property: Id(7)] double Guidance = 2.0,
    [property: Id(8)] int SamplerSteps = 50,
    [property: Id(9)] double Alpha = 0.01,
    [property: Id(10)] int EncoderSteps = PipelineSpec.DefaultEncoderSteps,
    [property: Id(11)] int ClassifierSteps = 1500,
    [property: Id(12)] int SyntheticTile = 1024,
    [property: Id(13)] int RealTile = 8192,
    [property: Id(14)] bool MatchRealLabels = false,
    [property: Id(15)] PipelineStrategy Strategy = PipelineStrategy.Distillation,
    [property: Id(16)] DiversityOptions? Diversity = null,
    [property: Id(17)] int Canaries = 200,
    [property: Id(18)] DiffusionSamplerKind Sampler = DiffusionSamplerKind.Ddim,
    [property: Id(19)] int VerifierSteps = 0,
    [property: Id(20)] ReleaseDescription? Description = null,
    [property: Id(21)] int VerifierBatch = PipelineSpec.DefaultVerifierBatch,
    [property: Id(22)] int VerifierLookAlikes = PipelineSpec.DefaultVerifierLookAlikes
)
{
    /// <summary>The re-identification encoder's training steps unless a spec says otherwise (every audit contract's
    /// default).</summary>
    public const int DefaultEncoderSteps = 1000;

    /// <summary>The pair verifier's batch unless a spec says otherwise.</summary>
    public const int DefaultVerifierBatch = 128;

    /// <summary>The verifier's batch must lie in this range: fewer pairs make too noisy a step, more do not fit the
    /// compute slot's memory budget.</summary>
    public const int MinVerifierBatch = 16,
        MaxVerifierBatch = 1024;

    public static bool IsVerifierBatchInRange(int batch) => batch is >= MinVerifierBatch and <= MaxVerifierBatch;

    /// <summary>The verifier's look-alikes unless a spec says otherwise (the users' 14,000-step verifier was measured
    /// with 8).</summary>
    public const int DefaultVerifierLookAlikes = 8;

    /// <summary>At least the nearest one; at most as many as the look-alike scan keeps cheap.</summary>
    public const int MinVerifierLookAlikes = 1,
        MaxVerifierLookAlikes = 64;

    public static bool IsVerifierLookAlikesInRange(int lookAlikes) =>
        lookAlikes is >= MinVerifierLookAlikes and <= MaxVerifierLookAlikes;

    /// <summary>
    /// This spec as meant, for one from before its verifier keys existed: stored by an earlier version, or sent by an
    /// older client or silo during a rolling upgrade. Orleans reads a missing field as its type's default, 0, which no
    /// valid spec holds for these keys, so 0 reads as the key's default. Applied where a grain takes a spec in and
    /// where it activates with a stored one.
    /// </summary>
    public PipelineSpec WithMissingKeysDefaulted() =>
        this with
        {
            VerifierBatch = VerifierBatch == 0 ? DefaultVerifierBatch : VerifierBatch,
            VerifierLookAlikes = VerifierLookAlikes == 0 ? DefaultVerifierLookAlikes : VerifierLookAlikes,
        };

    public bool UsesTwins => Strategy is PipelineStrategy.DiversityAware or PipelineStrategy.DiversityAwareDistillation;
    public bool TrainsStudent =>
        Strategy is PipelineStrategy.Distillation or PipelineStrategy.DiversityAwareDistillation;
}

/// <summary>One stage of a pipeline run and when it ran.</summary>
[GenerateSerializer, Immutable]
public sealed record StageStatus(
    [property: Id(0)] string Name,
    [property: Id(1)] WorkState State,
    [property: Id(2)] DateTimeOffset? StartedAt,
    [property: Id(3)] DateTimeOffset? FinishedAt,
    [property: Id(4)] string? Detail
);

/// <param name="ReportFile">The report's file in the release once written (report.html, or report.json alone when
/// refused).</param>
/// <param name="Policy">The run's effective gate.</param>
/// <param name="PolicySetBy">Who set <paramref name="Policy"/>: the submitter, at or above the cluster's floor, or an
/// operator.</param>
[GenerateSerializer, Immutable]
public sealed record PipelineStatus(
    [property: Id(0)] WorkState State,
    [property: Id(1)] IReadOnlyList<StageStatus> Stages,
    [property: Id(2)] string? ReportFile,
    [property: Id(3)] string? Error,
    [property: Id(4)] PipelinePolicy? Policy = null,
    [property: Id(5)] string? PolicySetBy = null
);
