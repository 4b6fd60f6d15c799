namespace OrleansSynth.Abstractions;

/// <summary>
/// A real dataset, keyed by its source (a known name or a full path). Registering is idempotent; every silo that loads
/// the data checks it against the registered content hashes, and refuses data that changed under the registered name,
/// naming the changed file.
/// </summary>
public interface IDatasetGrain : IGrainWithStringKey
{
    [ClientCall(ClientRole.Operator)]
    Task<DatasetInfo> Register();

    /// <summary>Reads the files again and checks them against the registration; a change is refused, naming the
    /// file.</summary>
    [ClientCall(ClientRole.Operator)]
    Task<DatasetInfo> Verify();

    // Interleaved: silos loading the dataset ask for its registered hashes, possibly while Register loads it.
    [AlwaysInterleave]
    [ClientCall(ClientRole.Submitter)]
    Task<DatasetInfo?> GetInfo();
}
