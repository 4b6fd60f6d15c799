using OrleansSynth.Abstractions;
using OrleansSynth.Grains.Pipeline;

namespace OrleansSynth.Cluster.Tests;

public class DistillationGateTests
{
    private static readonly GateEvidence AllGood = new(
        TilesTotal: 4,
        TilesDone: 4,
        FlaggedSamples: 3,
        FlaggedRemaining: 0,
        SamplesRemaining: 97,
        MinimumSamples: 50,
        ApprovalRequired: true,
        ApprovedBy: "reviewer",
        CanariesPlanted: 200,
        CanaryRecall: 0.98,
        MinimumCanaryRecall: 0.95
    );

    private static readonly AuditSummaryView CleanStudent = new(
        Total: 1500,
        Flagged: 0,
        Rate: 0,
        Threshold: 0.97f,
        Alpha: 0.01,
        EncoderAuc: 0.999,
        SinglingOutRisk: 0,
        RateUpper: 0.0026,
        CanariesPlanted: 200,
        CanariesCaught: 196,
        CanaryRecall: 0.98
    );

    private static readonly PipelinePolicy Policy = new(MinimumSamples: 1, RequireApproval: false);

    [Fact]
    public void OpensWhenEveryConditionHolds() => Assert.Empty(DistillationGate.Refusals(AllGood));

    [Fact]
    public void RefusesWhileTilesAreOutstanding() =>
        Assert.Single(DistillationGate.Refusals(AllGood with { TilesDone = 3 }), r => r.Contains("3 of 4 tiles"));

    [Fact]
    public void RefusesWhenFlaggedSamplesRemain() =>
        Assert.Single(DistillationGate.Refusals(AllGood with { FlaggedRemaining = 1 }), r => r.Contains("flagged"));

    [Fact]
    public void RefusesBelowTheMinimumCount() =>
        Assert.Single(DistillationGate.Refusals(AllGood with { SamplesRemaining = 49 }), r =>
            r.Contains("below the minimum of 50")
        );

    [Fact]
    public void RefusesBeforeApprovalWhenRequired()
    {
        Assert.Single(DistillationGate.Refusals(AllGood with { ApprovedBy = null }), r => r.Contains("approval"));
        Assert.Empty(DistillationGate.Refusals(AllGood with { ApprovedBy = null, ApprovalRequired = false }));
    }

    [Fact]
    public void RefusesWhenNoAuditRan() =>
        Assert.Contains(DistillationGate.Refusals(AllGood with { TilesTotal = 0, TilesDone = 0 }), r =>
            r.Contains("audit incomplete")
        );

    [Fact]
    public void RefusesAnAuditThatMissesItsCanaries() =>
        Assert.Single(DistillationGate.Refusals(AllGood with { CanaryRecall = 0.6 }), r =>
            r.Contains("canaries") && r.Contains("60.0")
        );

    [Fact]
    public void ReleasesAStudentWhoseAuditIsCleanAndProvesItsRecall() =>
        Assert.Empty(ReleaseGate.Refusals(Policy, CleanStudent, 1500));

    [Fact]
    public void RefusesAStudentOverTheCeiling() =>
        Assert.Single(
            ReleaseGate.Refusals(Policy, CleanStudent with { Flagged = 90, Rate = 0.06, RateUpper = 0.073 }, 1410),
            r => r.Contains("ceiling")
        );

    [Fact]
    public void RefusesAStudentWhoseAuditMissesItsCanaries() =>
        Assert.Single(ReleaseGate.Refusals(Policy, CleanStudent with { CanaryRecall = 0.5 }, 1500), r =>
            r.Contains("canaries")
        );

    [Fact]
    public void RefusesAStudentWithNothingLeft() =>
        Assert.Single(ReleaseGate.Refusals(Policy, CleanStudent, 0), r => r.Contains("no student sample"));
}
