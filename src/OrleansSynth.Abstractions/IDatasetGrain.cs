namespace OrleansSynth.Abstractions;

/// <summary>
/// A real dataset, keyed by its source (a known name or a full path). Registering twice is idempotent while the data
/// is unchanged; registering data that changed under the registered name is refused, naming the changed file.
/// </summary>
public interface IDatasetGrain : IGrainWithStringKey
{
    Task<DatasetInfo> Register();

    // Interleaved: silos loading the dataset ask for its registered hashes, possibly while Register loads it.
    [AlwaysInterleave]
    Task<DatasetInfo?> GetInfo();
}
