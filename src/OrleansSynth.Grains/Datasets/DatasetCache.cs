using System.Collections.Concurrent;
using OrleansSynth.ML.Data;

namespace OrleansSynth.Grains.Datasets;

/// <summary>Real datasets loaded once per silo and shared by the compute jobs that read them.</summary>
public sealed class DatasetCache
{
    private readonly ConcurrentDictionary<(string, DatasetSplit), Lazy<ImageDataset>> _loaded = new();

    public ImageDataset Get(string source, DatasetSplit split) =>
        _loaded.GetOrAdd((source, split), key => new Lazy<ImageDataset>(() => DatasetCatalog.Load(key.Item1, key.Item2))).Value;
}
