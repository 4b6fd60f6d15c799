using OrleansSynth.Abstractions;
using OrleansSynth.Grains.Pipeline;

namespace OrleansSynth.Cluster.Tests;

public class DistillationGateTests
{
    private static readonly GateEvidence AllGood = new(TilesTotal: 4, TilesDone: 4, FlaggedSamples: 3, FlaggedRemaining: 0,
        SamplesRemaining: 97, MinimumSamples: 50, ApprovalRequired: true, ApprovedBy: "reviewer");

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
        Assert.Single(DistillationGate.Refusals(AllGood with { SamplesRemaining = 49 }), r => r.Contains("below the minimum of 50"));

    [Fact]
    public void RefusesBeforeApprovalWhenRequired()
    {
        Assert.Single(DistillationGate.Refusals(AllGood with { ApprovedBy = null }), r => r.Contains("approval"));
        Assert.Empty(DistillationGate.Refusals(AllGood with { ApprovedBy = null, ApprovalRequired = false }));
    }

    [Fact]
    public void RefusesWhenNoAuditRan() =>
        Assert.Contains(DistillationGate.Refusals(AllGood with { TilesTotal = 0, TilesDone = 0 }), r => r.Contains("audit incomplete"));
}
