using OrleansSynth.ML.Diversity;

namespace OrleansSynth.ML.Tests;

public sealed class TwinRecordsTests
{
    [Theory]
    [InlineData(4500, 60000)]
    [InlineData(7, 10)]
    [InlineData(10, 10)]
    public void PicksDistinctRecordsSpreadOverTheWholeSplit(int count, int trainingCount)
    {
        var picked = Enumerable.Range(0, count).Select(i => TwinRecords.RecordIndex(i, count, trainingCount)).ToArray();

        Assert.Equal(count, picked.Distinct().Count());
        Assert.All(picked, index => Assert.InRange(index, 0, trainingCount - 1));
        // Spread, not the first records: the last pick lies in the split's last stride.
        Assert.True(picked[^1] >= trainingCount - (trainingCount + count - 1) / count, $"last pick {picked[^1]}");
    }

    [Fact]
    public void RefusesMoreRecordsThanTheSplitHolds() =>
        Assert.Throws<ArgumentException>(() => TwinRecords.RecordIndex(0, 11, 10));
}
