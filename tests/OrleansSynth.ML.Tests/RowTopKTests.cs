using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Runtime;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

public class RowTopKTests
{
    [Theory]
    [InlineData(9, 64, 5)] // whole SIMD vectors only
    [InlineData(9, 67, 5)] // a tail past the last vector
    [InlineData(33, 200, 3)] // another k
    [InlineData(4, 8192, 5)] // a scan tile's width
    public void EqualsTopKPlusTheOffset(int rows, int columns, int k)
    {
        manual_seed(rows * 10_000 + columns);
        using var matrix = randn(rows, columns);
        var (scores, found) = Select(matrix, k, offset: 1000);
        var (values, indices) = matrix.topk(k, dim: 1);
        using (values)
        using (indices)
        {
            Assert.Equal(indices.data<long>().ToArray().Select(i => (int)i + 1000), found);
            Assert.Equal(values.data<float>().ToArray(), scores);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)] // the SIMD pass
    [InlineData(ScalarType.Float64)] // topk, as on a GPU
    public void TiesGoToTheLowerColumnAndUnfilledSlotsStayEmpty(ScalarType type)
    {
        using var matrix = tensor(
                new float[,]
                {
                    { 1, 3, 3, 2, 3, 0, 3, 3, 3, 3 },
                    { 7, 8, 0, 0, 0, 0, 0, 0, 0, 0 },
                }
            )
            .to(type);
        var (scores, columns) = Select(matrix, 3);
        Assert.Equal(new float[] { 3, 3, 3, 8, 7, 0 }, scores);
        if (type == ScalarType.Float32)
            Assert.Equal(new[] { 1, 2, 4, 1, 0, 2 }, columns);
        using var narrow = tensor(
            new float[,]
            {
                { 5, 4 },
            }
        );
        var (fewScores, fewColumns) = Select(narrow, 3);
        Assert.Equal(new[] { 5f, 4f, float.NegativeInfinity }, fewScores);
        Assert.Equal(new[] { 0, 1, -1 }, fewColumns);
    }

    [Fact]
    public void NaNIsNeverSelected()
    {
        var row = Enumerable.Range(0, 40).Select(i => i % 3 == 0 ? float.NaN : i).ToArray();
        using var matrix = tensor(row).reshape(1, 40);
        var (scores, columns) = Select(matrix, 4);
        Assert.Equal(new float[] { 38, 37, 35, 34 }, scores);
        Assert.Equal(new[] { 38, 37, 35, 34 }, columns);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void BlocksOfColumnsFoldedInOrderEqualOneSelectionTiesIncluded(ScalarType type)
    {
        // Rounded values repeat within and across blocks; blocks of 7, 64 and 29 columns (a partial SIMD tail).
        manual_seed(7);
        using var matrix = randn(12, 100).Times(4).round().to(type);
        const int k = 5;
        var (whole, wholeColumns) = Select(matrix, k, offset: 300);
        var (scores, columns) = (
            Enumerable.Repeat(float.NegativeInfinity, 12 * k).ToArray(),
            Enumerable.Repeat(-1, 12 * k).ToArray()
        );
        foreach (var (start, width) in new[] { (0, 7), (7, 64), (71, 29) })
        {
            using var block = matrix.narrow(1, start, width);
            RowTopK.SelectInto(block, k, scores, columns, 300 + start);
        }
        Assert.Equal(whole, scores);
        if (type == ScalarType.Float32)
            Assert.Equal(wholeColumns, columns);
    }

    private static (float[] Scores, int[] Columns) Select(Tensor matrix, int k, int offset = 0)
    {
        var rows = (int)matrix.shape[0];
        var (scores, columns) = (new float[rows * k], new int[rows * k]);
        RowTopK.Select(matrix, k, scores, columns, offset);
        return (scores, columns);
    }
}
