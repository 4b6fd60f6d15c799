using System.Text.Json;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.ML.Data;

namespace OrleansSynth.Grains.Datasets;

public sealed class DatasetGrain(
    [PersistentState("dataset", GrainStorageNames.Default)] IPersistentState<DatasetGrainState> state,
    ComputeWorker compute,
    DatasetCache datasets,
    IArtifactStore artifacts,
    DataRoots roots
) : Grain, IDatasetGrain
{
    public async Task<DatasetInfo> Register()
    {
        // Registered once; every silo that loads the data later checks it against these hashes.
        if (state.State.Info is { } registered)
            return registered;
        roots.Demand(this.GetPrimaryKeyString(), "registering the dataset");
        var (info, recordIds) = await ReadOnComputeWorker(null);
        state.State.Info = info with { RecordIndex = await artifacts.PutBytesAsync(recordIds, "dataset-record-index") };
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IDatasetListGrain>(IDatasetListGrain.Key).Add(this.GetPrimaryKeyString());
        return state.State.Info;
    }

    public async Task<DatasetInfo> Verify()
    {
        var registered = state.State.Info
            ?? throw new DatasetRefusedException($"{this.GetPrimaryKeyString()}: not registered.");
        await ReadOnComputeWorker(registered);
        return registered;
    }

    private Task<(DatasetInfo Info, byte[] RecordIds)> ReadOnComputeWorker(DatasetInfo? registered)
    {
        var source = this.GetPrimaryKeyString();
        return compute.RunAsync($"read dataset {source}", _ =>
        {
            try
            {
                return Read(source, registered);
            }
            catch (DatasetFormatException e)
            {
                // The ML library's exception is not a grain-interface type; the caller gets the message, which names
                // the file.
                throw new DatasetRefusedException(e.Message);
            }
        });
    }

    /// <summary>Both splits from disk, checked against <paramref name="registered"/> when given; the record ids as
    /// JSON.</summary>
    private (DatasetInfo Info, byte[] RecordIds) Read(string source, DatasetInfo? registered)
    {
        var (format, path) = DatasetCatalog.Resolve(source);
        var train = datasets.LoadFresh(source, DatasetSplit.Train, registered);
        var test = datasets.LoadFresh(source, DatasetSplit.Test, registered);
        ModelInputShape.Check(source, train, test);
        var (trainHash, testHash) = (DatasetContentHash.Of(train), DatasetContentHash.Of(test));
        var info = new DatasetInfo(
            source,
            format.ToString(),
            Path.GetFullPath(path),
            $"{trainHash[..16]}{testHash[..16]}",
            train.Count,
            test.Count,
            Math.Max(train.NumClasses, test.NumClasses),
            train.Channels,
            train.Height,
            DateTimeOffset.UtcNow,
            train.LabelCounts(),
            trainHash,
            testHash
        )
        {
            HasReports = train.HasReports,
        };
        var ids = new Dictionary<string, string[]>
        {
            [nameof(DatasetSplit.Train)] = train.RecordIds,
            [nameof(DatasetSplit.Test)] = test.RecordIds,
        };
        return (info, JsonSerializer.SerializeToUtf8Bytes(ids));
    }

    public Task<DatasetInfo?> GetInfo() => Task.FromResult(state.State.Info);
}

[GenerateSerializer]
public sealed class DatasetGrainState
{
    [Id(0)]
    public DatasetInfo? Info { get; set; }
}
