using System.Text.Json;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Caching;
using OrleansSynth.ML.Data;

namespace OrleansSynth.Grains.Datasets;

/// <summary>
/// Real datasets loaded once per silo and shared by the compute jobs that read them, up to
/// <see cref="DatasetOptions.CacheBytes"/> of pixels (least recently used first out). A split of a registered dataset
/// is checked against its registered content hash when it is loaded: data that changed under the registered name is
/// refused, naming the changed file. Runs on the compute worker's threads, never on the Orleans scheduler, so it may
/// wait for the grain call that fetches the registration.
/// </summary>
public sealed class DatasetCache(IGrainFactory grains, IArtifactStore artifacts, IOptions<DatasetOptions> options)
{
    // A failed load is not remembered: once the files are fixed, the next job reads them again.
    private readonly SizeCappedCache<(string Source, DatasetSplit Split), ImageDataset> _loaded = new(
        options.Value.CacheBytes,
        data => data.Pixels.Length
    );

    public ImageDataset Get(string source, DatasetSplit split) =>
        _loaded.GetOrLoad((source, split), key => LoadVerified(key.Source, key.Split));

    /// <summary>Reads a split from disk, bypassing the cache, and checks it against <paramref name="registered"/> when
    /// given.</summary>
    public ImageDataset LoadFresh(string source, DatasetSplit split, DatasetInfo? registered)
    {
        // An uploaded dataset lives in the artifact store: without a shared volume, this silo fetches it first.
        artifacts.MaterializeNamedPathAsync(source).GetAwaiter().GetResult();
        var data = DatasetCatalog.Load(source, split, options.Value.AllowManifestPathsOutside);
        if (registered is not null)
            Verify(source, split, data, registered);
        return data;
    }

    private ImageDataset LoadVerified(string source, DatasetSplit split) =>
        LoadFresh(source, split, grains.GetGrain<IDatasetGrain>(source).GetInfo().GetAwaiter().GetResult());

    private void Verify(string source, DatasetSplit split, ImageDataset data, DatasetInfo registered)
    {
        var expected = split == DatasetSplit.Train ? registered.TrainContentHash : registered.TestContentHash;
        if (expected is null || DatasetContentHash.Of(data) == expected)
            return;
        throw new DatasetFormatException(
            ChangedFile(source, split, data, registered),
            $"changed since dataset '{source}' was registered ({split.ToString().ToLowerInvariant()} split content "
                + $"hash {expected[..12]}…); refusing to use different data under the registered name."
        );
    }

    /// <summary>The first file whose record differs from the registered record ids, else the dataset itself.</summary>
    private string ChangedFile(string source, DatasetSplit split, ImageDataset data, DatasetInfo registered)
    {
        if (registered.RecordIndex is null)
            return DatasetCatalog.Resolve(source).Path;
        var index = JsonSerializer.Deserialize<Dictionary<string, string[]>>(
            artifacts.GetBytesAsync(registered.RecordIndex).GetAwaiter().GetResult()
        )!;
        var before = index[split.ToString()];
        for (var i = 0; i < Math.Min(before.Length, data.Count); i++)
            if (before[i] != data.RecordIds[i])
                return DatasetCatalog.SourceFileOf(source, split, before[i]);
        return DatasetCatalog.Resolve(source).Path;
    }
}

/// <summary>How silos read real datasets.</summary>
public sealed class DatasetOptions
{
    /// <summary>Accept CSV manifests whose image paths are absolute or climb out of the manifest's folder.</summary>
    public bool AllowManifestPathsOutside { get; set; }

    /// <summary>Pixels of loaded splits a silo keeps in memory for the next job; past it the least recently used
    /// go.</summary>
    public long CacheBytes { get; set; } = 8L << 30;

    /// <summary>
    /// The folders datasets (and folders to audit) may come from; anything else a silo can read is refused. Installed
    /// named datasets (fashion-mnist) are always allowed; the host adds the artifact store, where uploads land.
    /// </summary>
    public List<string> Roots { get; set; } = [];
}
