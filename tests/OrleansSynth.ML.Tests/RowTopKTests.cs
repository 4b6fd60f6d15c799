using OrleansSynth.ML.Audit;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

public class RowTopKTests
{
    [Theory]
    [InlineData(9, 64, 5, 4)]     // whole groups only
    [InlineData(9, 67, 5, 4)]     // a 3-column tail past the last group
    [InlineData(3, 40, 5, 4)]     // fewer than 2k groups: the plain selection
    [InlineData(4, 8192, 5, 128)] // a scan tile's width with the default groups
    public void EqualsThePlainSelection(int rows, int columns, int k, int groupSize)
    {
        manual_seed(rows * 10_000 + columns);
        using var matrix = randn(rows, columns);
        var (values, indices) = RowTopK.Select(matrix, k, groupSize);
        var (expectedValues, expectedIndices) = matrix.topk(k, dim: 1);
        using (values) using (indices) using (expectedValues) using (expectedIndices)
        {
            Assert.Equal(expectedIndices.data<long>().ToArray(), indices.data<long>().ToArray());
            Assert.Equal(expectedValues.data<float>().ToArray(), values.data<float>().ToArray());
        }
    }

    [Fact]
    public void TheBestValuesMayAllShareOneGroup()
    {
        using var matrix = zeros(2, 64);
        // Row 0: four of the five best fill group 3 and the fifth sits in group 10; row 1: all five in the last columns.
        for (var c = 0; c < 4; c++) matrix[0, 12 + c] = tensor(10f - c);
        matrix[0, 40] = tensor(6f);
        for (var c = 0; c < 5; c++) matrix[1, 59 + c] = tensor(5f + c);
        var (values, indices) = RowTopK.Select(matrix, 5, groupSize: 4);
        using (values) using (indices)
        {
            Assert.Equal(new long[] { 12, 13, 14, 15, 40, 63, 62, 61, 60, 59 }, indices.data<long>().ToArray());
            Assert.Equal(new float[] { 10, 9, 8, 7, 6, 9, 8, 7, 6, 5 }, values.data<float>().ToArray());
        }
    }
}
