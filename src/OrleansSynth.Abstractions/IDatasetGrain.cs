namespace OrleansSynth.Abstractions;

/// <summary>A real dataset, keyed by its source (a known name or a full path). Registering twice is idempotent.</summary>
public interface IDatasetGrain : IGrainWithStringKey
{
    Task<DatasetInfo> Register();

    Task<DatasetInfo?> GetInfo();
}
