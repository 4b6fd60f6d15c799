namespace OrleansSynth.Abstractions;

/// <summary>The cluster's registered datasets, one grain keyed <see cref="Key"/>; each dataset adds itself when
/// registered.</summary>
public interface IDatasetListGrain : IGrainWithStringKey
{
    public const string Key = "datasets";

    Task Add(string source);

    [AlwaysInterleave]
    [ClientCall(ClientRole.Submitter)]
    Task<IReadOnlyList<DatasetInfo>> List();
}
