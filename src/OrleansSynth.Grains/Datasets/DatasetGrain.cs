using OrleansSynth.Abstractions;
using OrleansSynth.Grains.Compute;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;

namespace OrleansSynth.Grains.Datasets;

public sealed class DatasetGrain(
    [PersistentState("dataset", GrainStorageNames.Default)] IPersistentState<DatasetGrainState> state,
    ComputeWorker compute, DatasetCache datasets) : Grain, IDatasetGrain
{
    public async Task<DatasetInfo> Register()
    {
        if (state.State.Info is { } registered) return registered;
        var source = this.GetPrimaryKeyString();
        var info = await compute.RunAsync($"register {source}", _ =>
        {
            var (format, path) = DatasetCatalog.Resolve(source);
            var train = datasets.Get(source, DatasetSplit.Train);
            var test = datasets.Get(source, DatasetSplit.Test);
            var hash = ReidentificationTrainer.Fingerprint(train) + ReidentificationTrainer.Fingerprint(test);
            return new DatasetInfo(source, format.ToString(), Path.GetFullPath(path), hash, train.Count, test.Count,
                Math.Max(train.NumClasses, test.NumClasses), train.Channels, train.Height, DateTimeOffset.UtcNow, train.LabelCounts());
        });
        state.State.Info = info;
        await state.WriteStateAsync();
        return info;
    }

    public Task<DatasetInfo?> GetInfo() => Task.FromResult(state.State.Info);
}

[GenerateSerializer]
public sealed class DatasetGrainState
{
    [Id(0)] public DatasetInfo? Info { get; set; }
}
