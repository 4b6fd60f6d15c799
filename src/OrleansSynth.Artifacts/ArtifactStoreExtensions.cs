using OrleansSynth.Abstractions;

namespace OrleansSynth.Artifacts;

public static class ArtifactStoreExtensions
{
    /// <summary>The local paths of several artifacts (a set's sample bundles), in their order.</summary>
    public static async Task<IReadOnlyList<string>> GetLocalPathsAsync(
        this IArtifactStore store,
        IEnumerable<ArtifactRef> artifacts,
        CancellationToken cancellationToken = default
    )
    {
        var paths = new List<string>();
        foreach (var artifact in artifacts)
            paths.Add(await store.GetLocalPathAsync(artifact, cancellationToken));
        return paths;
    }
}
