namespace OrleansSynth.ML.Audit;

/// <summary>
/// The k most similar real records for each of a run of synthetic rows, best first. Row-major [Rows, K];
/// a slot that no real record filled has index -1 and score -infinity.
/// </summary>
public sealed class TopKMatches
{
    public TopKMatches(int firstRow, int rows, int k, float[] scores, int[] realIndices)
    {
        if (scores.Length != rows * k || realIndices.Length != rows * k)
            throw new ArgumentException("Scores and indices must be rows x k.");
        FirstRow = firstRow;
        Rows = rows;
        K = k;
        Scores = scores;
        RealIndices = realIndices;
    }

    public int FirstRow { get; }
    public int Rows { get; }
    public int K { get; }
    public float[] Scores { get; }
    public int[] RealIndices { get; }

    public static TopKMatches Empty(int firstRow, int rows, int k) =>
        new(
            firstRow,
            rows,
            k,
            Enumerable.Repeat(float.NegativeInfinity, rows * k).ToArray(),
            Enumerable.Repeat(-1, rows * k).ToArray()
        );

    public float BestScore(int row) => Scores[(row - FirstRow) * K];

    public int BestIndex(int row) => RealIndices[(row - FirstRow) * K];

    /// <summary>A row's k scores, best first.</summary>
    public ReadOnlySpan<float> RowScores(int row) => Scores.AsSpan((row - FirstRow) * K, K);

    /// <summary>Folds another partial result for (some of) the same rows into this one, keeping the k best per
    /// row.</summary>
    public void MergeFrom(TopKMatches other)
    {
        if (other.K != K)
            throw new ArgumentException("Cannot merge top-k results with different k.");
        if (other.FirstRow < FirstRow || other.FirstRow + other.Rows > FirstRow + Rows)
            throw new ArgumentException(
                $"Rows {other.FirstRow}..{other.FirstRow + other.Rows} are outside {FirstRow}..{FirstRow + Rows}."
            );
        var (scores, indices) = (new float[K], new int[K]);
        for (var row = 0; row < other.Rows; row++)
        {
            var mine = (other.FirstRow - FirstRow + row) * K;
            var theirs = row * K;
            int a = 0,
                b = 0;
            for (var slot = 0; slot < K; slot++)
            {
                // Ties go to the lower real index, so the result does not depend on merge order.
                var takeMine =
                    b >= K
                    || (
                        a < K
                        && (
                            Scores[mine + a] > other.Scores[theirs + b]
                            || (
                                Scores[mine + a] == other.Scores[theirs + b]
                                && (uint)RealIndices[mine + a] <= (uint)other.RealIndices[theirs + b]
                            )
                        )
                    );
                if (takeMine)
                {
                    scores[slot] = Scores[mine + a];
                    indices[slot] = RealIndices[mine + a];
                    a++;
                }
                else
                {
                    scores[slot] = other.Scores[theirs + b];
                    indices[slot] = other.RealIndices[theirs + b];
                    b++;
                }
            }
            scores.CopyTo(Scores, mine);
            indices.CopyTo(RealIndices, mine);
        }
    }

    /// <summary>A compact binary form, for handing tile results between silos through the artifact store.</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(FirstRow);
            writer.Write(Rows);
            writer.Write(K);
            foreach (var score in Scores)
                writer.Write(score);
            foreach (var index in RealIndices)
                writer.Write(index);
        }
        return stream.ToArray();
    }

    public static TopKMatches FromBytes(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes));
        var (first, rows, k) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        var scores = new float[rows * k];
        var indices = new int[rows * k];
        for (var i = 0; i < scores.Length; i++)
            scores[i] = reader.ReadSingle();
        for (var i = 0; i < indices.Length; i++)
            indices[i] = reader.ReadInt32();
        return new TopKMatches(first, rows, k, scores, indices);
    }
}
