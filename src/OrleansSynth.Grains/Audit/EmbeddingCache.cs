using Microsoft.Extensions.Options;
using OrleansSynth.Grains.Caching;
using OrleansSynth.Grains.Compute;
using OrleansSynth.ML.Audit;

namespace OrleansSynth.Grains.Audit;

/// <summary>
/// Embedding files read once per silo: every tile of an audit reads the same real embeddings. Bounded by
/// <see cref="ComputeWorkerOptions.EmbeddingCacheBytes"/>, least recently used first out.
/// </summary>
public sealed class EmbeddingCache(IOptions<ComputeWorkerOptions> options)
{
    private readonly SizeCappedCache<string, EmbeddingSet> _sets = new(options.Value.EmbeddingCacheBytes, set => set.Values.LongLength * sizeof(float));

    public EmbeddingSet Get(string path) => _sets.GetOrLoad(path, EmbeddingSet.Load);
}
