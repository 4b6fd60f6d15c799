using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Pipeline;

/// <summary>
/// The last rule before a student is released: its own audit must prove its recall on its canaries, and the upper end
/// of the 95% interval of its flagged rate must sit under the policy's ceiling. A pure function of the evidence.
/// </summary>
public static class ReleaseGate
{
    public static IReadOnlyList<string> Refusals(
        PipelinePolicy policy,
        AuditSummaryView studentAudit,
        int studentSamplesKept
    )
    {
        var reasons = new List<string>();
        if (studentAudit.CanaryRecall < policy.MinimumCanaryRecall)
            reasons.Add(
                $"the student audit caught {studentAudit.CanaryRecall:P1} of its {studentAudit.CanariesPlanted} "
                    + $"canaries, below the minimum recall of {policy.MinimumCanaryRecall:P0}"
            );
        if (studentAudit.RateUpper >= policy.StudentFlaggedRateCeiling)
            reasons.Add(
                $"the student's samples were flagged at {studentAudit.Rate:P2} ({studentAudit.Flagged} of "
                    + $"{studentAudit.Total}; upper bound {studentAudit.RateUpper:P2}), not under the ceiling of "
                    + $"{policy.StudentFlaggedRateCeiling:P2}: the student reproduces training records"
            );
        if (studentSamplesKept == 0)
            reasons.Add("no student sample passed its audit");
        return reasons;
    }
}
