using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Pipeline;

/// <summary>The rule that decides whether a student may be trained: a pure function of the evidence.</summary>
public static class DistillationGate
{
    public static IReadOnlyList<string> Refusals(GateEvidence evidence)
    {
        var reasons = new List<string>();
        if (evidence.TilesTotal == 0 || evidence.TilesDone < evidence.TilesTotal)
            reasons.Add($"audit incomplete: {evidence.TilesDone} of {evidence.TilesTotal} tiles done");
        if (evidence.FlaggedRemaining > 0)
            reasons.Add($"{evidence.FlaggedRemaining} flagged sample(s) remain in the training set of the student");
        if (evidence.SamplesRemaining < evidence.MinimumSamples)
            reasons.Add(
                $"{evidence.SamplesRemaining} sample(s) remain, below the minimum of {evidence.MinimumSamples}"
            );
        if (evidence.CanaryRecall < evidence.MinimumCanaryRecall)
            reasons.Add(
                $"the audit caught {evidence.CanaryRecall:P1} of its {evidence.CanariesPlanted} canaries, below the "
                    + $"minimum recall of {evidence.MinimumCanaryRecall:P0}: it cannot vouch for the samples it passed"
            );
        if (evidence.ApprovalRequired && string.IsNullOrEmpty(evidence.ApprovedBy))
            reasons.Add("approval required and not given");
        return reasons;
    }
}
