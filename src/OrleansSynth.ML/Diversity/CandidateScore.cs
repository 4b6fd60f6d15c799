namespace OrleansSynth.ML.Diversity;

/// <summary>One candidate twin, scored against its source record.</summary>
/// <param name="Similarity">Re-identification similarity to the source (cosine of the encoder's embeddings).</param>
/// <param name="Linked">The re-identification model links it to the source (similarity above the calibrated
/// threshold).</param>
/// <param name="Consistency">Cross-entropy of the classifier's prediction on the candidate against its prediction on
/// the source: low means same meaning.</param>
public sealed record CandidateScore(int Candidate, double Similarity, bool Linked, double Consistency)
{
    public double Cost(double linkPenalty) => Consistency + linkPenalty * Similarity;
}
