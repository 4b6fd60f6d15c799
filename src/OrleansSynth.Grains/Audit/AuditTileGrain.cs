using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.FanOut;
using OrleansSynth.Grains.Placement;
using OrleansSynth.ML.Audit;

namespace OrleansSynth.Grains.Audit;

/// <summary>One tile of the pairwise scan. Reads both embedding sets by reference, writes its top-k by reference.</summary>
[PreferGpuSilos]
public sealed class AuditTileGrain(
    [PersistentState("tile", GrainStorageNames.Default)] IPersistentState<FanOutPartState<AuditTileResult>> state,
    ComputeWorker compute, IArtifactStore artifacts, EmbeddingCache embeddings, ILocalSiloDetails silo, ILogger<AuditTileGrain> logger)
    : FanOutPartGrain<AuditTileSpec, AuditTileResult>(state, logger), IAuditTileGrain
{
    protected override async Task<AuditTileResult> ComputeAsync(AuditTileSpec spec, CancellationToken stopping)
    {
        var syntheticPath = await artifacts.GetLocalPathAsync(spec.SyntheticEmbeddings);
        var realPath = await artifacts.GetLocalPathAsync(spec.RealEmbeddings);
        var bytes = await compute.RunAsync($"scan {this.GetPrimaryKeyString()}", (device, _) =>
        {
            // Only this tile's rows become tensors, on the slot's device.
            using var synthetic = embeddings.Get(syntheticPath).ToTensor(spec.SyntheticStart, spec.SyntheticCount, device);
            using var real = embeddings.Get(realPath).ToTensor(spec.RealStart, spec.RealCount, device);
            var tile = new ScanTile(spec.SyntheticStart, spec.SyntheticCount, spec.RealStart, spec.RealCount);
            return PairwiseScan.RunSlices(synthetic, real, tile, spec.TopK).ToBytes();
        }, stopping);
        return new AuditTileResult(spec, await artifacts.PutBytesAsync(bytes, "scan-tile"), silo.SiloAddress.ToString());
    }
}
