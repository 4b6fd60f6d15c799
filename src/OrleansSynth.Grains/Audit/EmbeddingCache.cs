using System.Collections.Concurrent;
using OrleansSynth.ML.Audit;

namespace OrleansSynth.Grains.Audit;

/// <summary>Embedding files read once per silo: every tile of an audit reads the same real embeddings.</summary>
public sealed class EmbeddingCache
{
    private readonly ConcurrentDictionary<string, Lazy<EmbeddingSet>> _sets = new();

    public EmbeddingSet Get(string path) => _sets.GetOrAdd(path, p => new Lazy<EmbeddingSet>(() => EmbeddingSet.Load(p))).Value;
}
