namespace OrleansSynth.ML.Diversity;

/// <summary>
/// Picks a record's twin among its candidates: never a linked one; among the rest, the lowest
/// consistency + link-penalty cost (keeps the source's meaning, stays away from its identity).
/// </summary>
public static class TwinSelection
{
    /// <returns>The chosen candidates, best first: none when every candidate is linked, else up to <see
    /// cref="TwinSettings.TwinsPerRecord"/>.</returns>
    public static IReadOnlyList<CandidateScore> Choose(
        IReadOnlyList<CandidateScore> candidates,
        TwinSettings settings
    ) =>
        candidates
            .Where(c => !c.Linked)
            .OrderBy(c => c.Cost(settings.LinkPenalty))
            .ThenBy(c => c.Candidate)
            .Take(settings.TwinsPerRecord)
            .ToList();
}
