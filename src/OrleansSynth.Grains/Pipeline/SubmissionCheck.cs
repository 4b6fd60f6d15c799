using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Pipeline;

/// <summary>
/// Whether a run spec may be submitted: at or above the operator's policy floor and within the cluster's limits. Each
/// refusal names the spec file's key, what was asked and the floor or limit.
/// </summary>
public static class SubmissionCheck
{
    /// <exception cref="ArgumentException">Every refusal, one per line.</exception>
    public static void Demand(PipelineSpec spec, PolicyFloorOptions floor, ClusterLimitsOptions limits)
    {
        var refusals = Refusals(spec, floor, limits).ToList();
        if (refusals.Count > 0)
            throw new ArgumentException("run spec refused: " + string.Join("; ", refusals));
    }

    public static IEnumerable<string> Refusals(PipelineSpec spec, PolicyFloorOptions floor, ClusterLimitsOptions limits)
    {
        var gate = spec.Gate;
        if (gate.MinimumCanaryRecall < floor.MinimumCanaryRecall)
            yield return Weaker(
                "gate.minimumCanaryRecall",
                gate.MinimumCanaryRecall,
                "at least",
                floor.MinimumCanaryRecall
            );
        if (gate.StudentFlaggedRateCeiling > floor.StudentFlaggedRateCeiling)
            yield return Weaker(
                "gate.studentFlaggedRateCeiling",
                gate.StudentFlaggedRateCeiling,
                "at most",
                floor.StudentFlaggedRateCeiling
            );
        if (floor.RequireApproval && !gate.RequireApproval)
            yield return "gate.requireApproval false is weaker than the cluster's floor (approval required)";
        if (spec.Alpha < floor.Alpha)
            yield return Weaker("audit.alpha", spec.Alpha, "at least", floor.Alpha);
        if (spec.Canaries < floor.Canaries)
            yield return Weaker("audit.canaries", spec.Canaries, "at least", floor.Canaries);
        if (spec.EncoderSteps < floor.EncoderSteps)
            yield return Weaker("audit.encoderSteps", spec.EncoderSteps, "at least", floor.EncoderSteps);
        if (spec.VerifierSteps < floor.VerifierSteps)
            yield return Weaker("audit.verifierSteps", spec.VerifierSteps, "at least", floor.VerifierSteps);

        if (!PipelineSpec.IsVerifierBatchInRange(spec.VerifierBatch))
            yield return $"audit.verifierBatch {spec.VerifierBatch} must be from {PipelineSpec.MinVerifierBatch} to "
                + $"{PipelineSpec.MaxVerifierBatch}";
        if (!PipelineSpec.IsVerifierLookAlikesInRange(spec.VerifierLookAlikes))
            yield return $"audit.verifierLookAlikes {spec.VerifierLookAlikes} must be from "
                + $"{PipelineSpec.MinVerifierLookAlikes} to {PipelineSpec.MaxVerifierLookAlikes}";

        if (spec.SampleCount < 1)
            yield return $"sampling.count {spec.SampleCount} must be positive";
        if (spec.ShardSize < 1)
            yield return $"sampling.shardSize {spec.ShardSize} must be positive";
        if (spec.SampleCount > limits.MaxSamples)
            yield return OverLimit("sampling.count", spec.SampleCount, limits.MaxSamples);
        if (spec.ShardSize >= 1 && (spec.SampleCount + (long)spec.ShardSize - 1) / spec.ShardSize > limits.MaxShards)
            yield return "sampling.count over sampling.shardSize makes more than the cluster's limit of "
                + $"{limits.MaxShards} shards";
        if (spec.Canaries > limits.MaxCanaries)
            yield return OverLimit("audit.canaries", spec.Canaries, limits.MaxCanaries);
        foreach (
            var (key, steps) in new[]
            {
                ("teacher.steps", spec.Teacher.Steps),
                ("student.steps", spec.Student.Steps),
                ("utility.classifierSteps", spec.ClassifierSteps),
                ("audit.encoderSteps", spec.EncoderSteps),
                ("audit.verifierSteps", spec.VerifierSteps),
            }
        )
        {
            if (steps > limits.MaxSteps)
                yield return OverLimit(key, steps, limits.MaxSteps);
        }
        if (spec.SyntheticTile < limits.MinSyntheticTile)
            yield return $"syntheticTile {spec.SyntheticTile} is under the cluster's minimum of "
                + $"{limits.MinSyntheticTile}";
        if (spec.RealTile < limits.MinRealTile)
            yield return $"realTile {spec.RealTile} is under the cluster's minimum of {limits.MinRealTile}";
        foreach (var refusal in DescriptionRefusals(spec.Description))
            yield return refusal;
    }

    private static IEnumerable<string> DescriptionRefusals(ReleaseDescription? description)
    {
        if (description is null)
            yield break;
        foreach (
            var (key, text) in new[]
            {
                ("release.dataSource", description.DataSource),
                ("release.intendedUse", description.IntendedUse),
                ("release.outOfScopeUse", description.OutOfScopeUse),
                ("release.licence", description.Licence),
                ("release.contact", description.Contact),
            }
        )
        {
            if (text?.Length > ReleaseDescription.MaxFieldLength)
                yield return $"{key} has {text.Length} characters, over {ReleaseDescription.MaxFieldLength}";
        }
        if (description.ClassNames is not { } names)
            yield break;
        if (names.Count > ML.Data.ImageDataset.MaxClasses)
            yield return $"release.classNames lists {names.Count} names, over {ML.Data.ImageDataset.MaxClasses}";
        if (names.Any(n => string.IsNullOrWhiteSpace(n) || n.Length > ReleaseDescription.MaxClassNameLength))
            yield return $"release.classNames must be 1 to {ReleaseDescription.MaxClassNameLength} characters each";
    }

    private static string Weaker(string key, double asked, string bound, double floor) =>
        $"{key} {asked:0.####} is weaker than the cluster's floor ({bound} {floor:0.####})";

    private static string OverLimit(string key, long asked, long limit) =>
        $"{key} {asked} is over the cluster's limit of {limit}";
}
