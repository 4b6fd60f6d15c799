using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// The k largest values of each row of a similarity tile, best first, ties to the lower column. On a CPU each row is
/// read once, four SIMD vectors at a time against the k-th best so far, so nearly every block is skipped whole:
/// <c>topk</c> builds a (value, index) pair per element and cost a 1,024 x 8,192 tile 8 ms, a third of its matrix
/// product; this pass about 2.5 ms on the same tile's products of 1,024 columns (bench scan: the scan less its blocked
/// products, per tile). Elsewhere (a GPU) it is <c>topk</c> on the device. NaN values are never selected.
/// </summary>
public static class RowTopK
{
    /// <param name="scores">Row-major [rows, k]; slots no column filled end as -infinity.</param>
    /// <param name="columns">Row-major [rows, k]: the column plus <paramref name="columnOffset"/>, or -1 for an
    /// unfilled slot.</param>
    public static void Select(Tensor matrix, int k, Span<float> scores, Span<int> columns, int columnOffset = 0)
    {
        scores.Fill(float.NegativeInfinity);
        columns.Fill(-1);
        SelectInto(matrix, k, scores, columns, columnOffset);
    }

    /// <summary>
    /// Folds a further block of columns into slots that already hold the best of the columns before it (or start as
    /// -infinity and -1): the blocks of a row, given in column order, end as one selection over all of them.
    /// </summary>
    public static void SelectInto(Tensor matrix, int k, Span<float> scores, Span<int> columns, int columnOffset)
    {
        if (matrix.dim() != 2)
            throw new ArgumentException($"A matrix is [rows, columns]; got [{string.Join(",", matrix.shape)}].");
        var (rows, width) = ((int)matrix.shape[0], (int)matrix.shape[1]);
        if (scores.Length != rows * k || columns.Length != rows * k)
            throw new ArgumentException("Scores and columns must be rows x k.");
        if (width == 0 || rows == 0)
            return;
        using var scope = NewDisposeScope();
        if (matrix.device.type != DeviceType.CPU || matrix.dtype != ScalarType.Float32)
        {
            SelectOnDevice(matrix, k, scores, columns, columnOffset);
            return;
        }
        var values = MemoryMarshal.Cast<byte, float>(matrix.contiguous().bytes);
        // One thread: two tasks ran slower (after each product libtorch's OpenMP worker spins a while on the second
        // core).
        for (var row = 0; row < rows; row++)
            SelectRow(
                values.Slice(row * width, width),
                scores.Slice(row * k, k),
                columns.Slice(row * k, k),
                columnOffset
            );
    }

    /// <summary>One row into k slots holding the best of earlier columns, best first, then -infinity and -1.</summary>
    private static void SelectRow(ReadOnlySpan<float> row, Span<float> scores, Span<int> columns, int columnOffset)
    {
        var k = scores.Length;
        var filled = FilledSlots(columns);
        var column = 0;
        for (; column < row.Length && filled < k; column++)
            if (!float.IsNaN(row[column]))
                Insert(row[column], columnOffset + column, ref filled, scores, columns);
        // Only a block holding something above the k-th best is read value by value (NaN compares false: never).
        // Strictly above: an equal value comes later, so at a higher column, and loses the tie.
        var lanes = Vector<float>.Count;
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(row[column..]);
        var threshold = new Vector<float>(scores[k - 1]);
        for (var v = 0; v + 4 <= vectors.Length; v += 4, column += 4 * lanes)
        {
            var above =
                Vector.GreaterThan(vectors[v], threshold)
                | Vector.GreaterThan(vectors[v + 1], threshold)
                | Vector.GreaterThan(vectors[v + 2], threshold)
                | Vector.GreaterThan(vectors[v + 3], threshold);
            if (above == Vector<int>.Zero)
                continue;
            for (var c = column; c < column + 4 * lanes; c++)
                if (row[c] > scores[k - 1])
                    Insert(row[c], columnOffset + c, ref filled, scores, columns);
            threshold = new Vector<float>(scores[k - 1]);
        }
        for (; column < row.Length; column++)
            if (row[column] > scores[k - 1])
                Insert(row[column], columnOffset + column, ref filled, scores, columns);
    }

    // Slots fill from the front, so the first empty one (-1) counts the filled ones.
    private static int FilledSlots(ReadOnlySpan<int> columns) =>
        columns.IndexOf(-1) is var free and >= 0 ? free : columns.Length;

    // After every value at least as large: among equal values the lower column, seen first, stays first.
    private static void Insert(float value, int column, ref int filled, Span<float> scores, Span<int> columns)
    {
        var at = Math.Min(filled, scores.Length - 1);
        for (; at > 0 && scores[at - 1] < value; at--)
        {
            scores[at] = scores[at - 1];
            columns[at] = columns[at - 1];
        }
        scores[at] = value;
        columns[at] = column;
        if (filled < scores.Length)
            filled++;
    }

    // topk on the device, then each row's candidates folded in as the CPU pass would (ties to the lower column).
    private static void SelectOnDevice(Tensor matrix, int k, Span<float> scores, Span<int> columns, int columnOffset)
    {
        var take = (int)Math.Min(k, matrix.shape[1]);
        var (values, indices) = matrix.topk(take, dim: 1, largest: true, sorted: true);
        var valueData = values.to_type(ScalarType.Float32).cpu().data<float>().ToArray();
        var indexData = indices.cpu().data<long>().ToArray();
        var candidates = new (float Value, int Column)[take];
        for (var row = 0; row < matrix.shape[0]; row++)
        {
            for (var slot = 0; slot < take; slot++)
                candidates[slot] = (valueData[row * take + slot], columnOffset + (int)indexData[row * take + slot]);
            Array.Sort(candidates, (a, b) =>
                a.Value != b.Value ? b.Value.CompareTo(a.Value) : a.Column.CompareTo(b.Column)
            );
            var rowScores = scores.Slice(row * k, k);
            var rowColumns = columns.Slice(row * k, k);
            var filled = FilledSlots(rowColumns);
            foreach (var (value, column) in candidates)
                if (!float.IsNaN(value) && (filled < k || value > rowScores[k - 1]))
                    Insert(value, column, ref filled, rowScores, rowColumns);
        }
    }
}
