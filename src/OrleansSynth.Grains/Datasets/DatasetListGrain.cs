using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Datasets;

public sealed class DatasetListGrain(
    [PersistentState("datasets", GrainStorageNames.Default)] IPersistentState<DatasetListState> state
) : Grain, IDatasetListGrain
{
    public async Task Add(string source)
    {
        if (state.State.Sources.Contains(source))
            return;
        state.State.Sources.Add(source);
        await state.WriteStateAsync();
    }

    public async Task<IReadOnlyList<DatasetInfo>> List()
    {
        var infos = await Task.WhenAll(
            state.State.Sources.Select(s => GrainFactory.GetGrain<IDatasetGrain>(s).GetInfo())
        );
        return infos.OfType<DatasetInfo>().ToList();
    }
}

[GenerateSerializer]
public sealed class DatasetListState
{
    [Id(0)]
    public List<string> Sources { get; set; } = [];
}
