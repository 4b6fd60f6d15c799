using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// The k largest values of each row of a wide matrix, through group maxima: the columns are cut into groups, and the k
/// groups with the largest maxima hold every one of the row's k largest values (a value outside them is beaten by k
/// group maxima). A max over each group is one vectorised pass; the selection then sorts k groups, not the whole row.
/// On a 1,024 x 8,192 scan tile that is several times cheaper than <c>topk</c> over the row.
/// </summary>
public static class RowTopK
{
    public const int DefaultGroupSize = 128;

    /// <returns>Values [rows, k'] best first and their column indices (int64), k' = min(k, columns).</returns>
    public static (Tensor Values, Tensor Indices) Select(Tensor matrix, int k, int groupSize = DefaultGroupSize)
    {
        var (rows, columns) = (matrix.shape[0], matrix.shape[1]);
        var take = (int)Math.Min(k, columns);
        var groups = columns / groupSize;
        // Too few groups to prune anything: the plain selection is as cheap.
        if (groups < 2 * take) return matrix.topk(take, dim: 1, largest: true, sorted: true);

        using var scope = NewDisposeScope();
        var grouped = matrix.narrow(1, 0, groups * groupSize).view(rows, groups, groupSize);
        var bestGroups = grouped.amax([2]).topk(take, dim: 1, largest: true, sorted: false).indexes;
        var within = arange(groupSize, dtype: int64, device: matrix.device);
        var candidateColumns = (bestGroups.unsqueeze(2) * groupSize + within).reshape(rows, take * groupSize);
        var candidateValues = grouped.gather(1, bestGroups.unsqueeze(2).expand(rows, take, groupSize)).reshape(rows, take * groupSize);
        // Columns past the last whole group are candidates as they are.
        var tail = columns - groups * groupSize;
        if (tail > 0)
        {
            candidateValues = cat([candidateValues, matrix.narrow(1, groups * groupSize, tail)], 1);
            candidateColumns = cat([candidateColumns, arange(groups * groupSize, columns, dtype: int64, device: matrix.device).expand(rows, tail)], 1);
        }
        var (values, positions) = candidateValues.topk(take, dim: 1, largest: true, sorted: true);
        var indices = candidateColumns.gather(1, positions);
        return (values.MoveToOuterDisposeScope(), indices.MoveToOuterDisposeScope());
    }
}
