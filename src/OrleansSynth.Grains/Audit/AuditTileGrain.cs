using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Placement;
using OrleansSynth.ML.Audit;

namespace OrleansSynth.Grains.Audit;

/// <summary>One tile of the pairwise scan. Reads both embedding sets by reference, writes its top-k by reference.</summary>
[PreferGpuSilos]
public sealed class AuditTileGrain(
    [PersistentState("tile", GrainStorageNames.Default)] IPersistentState<AuditTileState> state,
    ComputeWorker compute, IArtifactStore artifacts, EmbeddingCache embeddings, ILocalSiloDetails silo) : Grain, IAuditTileGrain
{
    // Fires on deactivation (a silo stop: the tile runs again elsewhere) or on Cancel (its audit was cancelled).
    private readonly CancellationTokenSource _stopping = new();

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => _stopping.CancelAsync();

    public Task Cancel() => _stopping.CancelAsync();

    public async Task<AuditTileResult> Run(AuditTileSpec spec)
    {
        if (state.State.Result is { } done) return done;
        var syntheticPath = await artifacts.GetLocalPathAsync(spec.SyntheticEmbeddings);
        var realPath = await artifacts.GetLocalPathAsync(spec.RealEmbeddings);
        var bytes = await compute.RunAsync($"scan {this.GetPrimaryKeyString()}", (device, _) =>
        {
            // Only this tile's rows become tensors, on the slot's device.
            using var synthetic = embeddings.Get(syntheticPath).ToTensor(spec.SyntheticStart, spec.SyntheticCount, device);
            using var real = embeddings.Get(realPath).ToTensor(spec.RealStart, spec.RealCount, device);
            var tile = new ScanTile(spec.SyntheticStart, spec.SyntheticCount, spec.RealStart, spec.RealCount);
            return PairwiseScan.RunSlices(synthetic, real, tile, spec.TopK).ToBytes();
        }, _stopping.Token);
        var matches = await artifacts.PutBytesAsync(bytes, "scan-tile");
        state.State.Result = new AuditTileResult(spec, matches, silo.SiloAddress.ToString());
        await state.WriteStateAsync();
        return state.State.Result;
    }
}

[GenerateSerializer]
public sealed class AuditTileState
{
    [Id(0)] public AuditTileResult? Result { get; set; }
}
