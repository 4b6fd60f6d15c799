using OrleansSynth.ML.Diversity;

namespace OrleansSynth.ML.Tests;

public sealed class TwinSelectionTests
{
    // Candidate 0 has the best consistency but is linked; 3 has the lowest cost of the rest (0.6 + 0.1).
    private static readonly CandidateScore[] Scores =
    [
        new(0, Similarity: 0.99, Linked: true, Consistency: 0.05),
        new(1, Similarity: 0.30, Linked: false, Consistency: 0.50),
        new(2, Similarity: 0.90, Linked: false, Consistency: 0.20),
        new(3, Similarity: 0.10, Linked: false, Consistency: 0.60),
    ];

    [Fact]
    public void PicksTheLowestCostUnlinkedCandidate()
    {
        var chosen = TwinSelection.Choose(Scores, new TwinSettings());
        Assert.Equal([3], chosen.Select(c => c.Candidate));
    }

    [Theory]
    [InlineData(2, new[] { 3, 1 })]
    [InlineData(3, new[] { 3, 1, 2 })]
    [InlineData(4, new[] { 3, 1, 2 })]
    public void KeepsSeveralTwinsBestFirstButNeverALinkedOne(int twinsPerRecord, int[] expected)
    {
        var chosen = TwinSelection.Choose(Scores, new TwinSettings(TwinsPerRecord: twinsPerRecord));
        Assert.Equal(expected, chosen.Select(c => c.Candidate));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void RefusesMoreTwinsThanCandidatesOrNone(int twinsPerRecord) =>
        Assert.Throws<ArgumentException>(() =>
            new TwinSettings(Candidates: 4, TwinsPerRecord: twinsPerRecord).Validate()
        );

    [Fact]
    public void WithoutALinkPenaltyConsistencyAloneDecides()
    {
        var chosen = TwinSelection.Choose(Scores, new TwinSettings(LinkPenalty: 0));
        Assert.Equal([2], chosen.Select(c => c.Candidate));
    }

    [Fact]
    public void AllLinkedChoosesNothing()
    {
        var linked = Scores.Select(s => s with { Linked = true }).ToList();
        Assert.Empty(TwinSelection.Choose(linked, new TwinSettings()));
    }

    [Fact]
    public void GuidanceBacksOffByItsStepDownToTheFloor()
    {
        var settings = new TwinSettings(Guidance: 1.4, GuidanceStep: 0.1, GuidanceFloor: 0.5);
        var rounds = Enumerable
            .Range(0, 12)
            .Select(settings.GuidanceForRound)
            .TakeWhile(w => w is not null)
            .Select(w => w!.Value)
            .ToList();
        Assert.Equal([1.4, 1.3, 1.2, 1.1, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5], rounds);
        Assert.Null(settings.GuidanceForRound(10));
    }

    [Fact]
    public void InvalidSettingsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new TwinSettings(Candidates: 0).Validate());
        Assert.Throws<ArgumentException>(() => new TwinSettings(GuidanceFloor: 2.0).Validate());
        Assert.Throws<ArgumentException>(() => new TwinSettings(GuidanceStep: 0).Validate());
    }
}
