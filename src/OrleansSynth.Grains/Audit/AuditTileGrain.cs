using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.FanOut;
using OrleansSynth.Grains.Placement;
using OrleansSynth.ML.Audit;

namespace OrleansSynth.Grains.Audit;

/// <summary>
/// One tile of the pairwise scan. Reads its rows of both embedding sets (by reference, from the artifact store) and
/// writes its top-k by reference: its memory is the tile's, however large the sets.
/// </summary>
[PreferGpuSilos]
public sealed class AuditTileGrain(
    [PersistentState("tile", GrainStorageNames.Default)] IPersistentState<FanOutPartState<AuditTileResult>> state,
    ComputeWorker compute,
    IArtifactStore artifacts,
    ILocalSiloDetails silo,
    ILogger<AuditTileGrain> logger
) : FanOutPartGrain<AuditTileSpec, AuditTileResult>(state, logger), IAuditTileGrain
{
    protected override async Task<AuditTileResult> ComputeAsync(AuditTileSpec spec, CancellationToken stopping)
    {
        var syntheticPath = await artifacts.GetLocalPathAsync(spec.SyntheticEmbeddings);
        var realPath = await artifacts.GetLocalPathAsync(spec.RealEmbeddings);
        var bytes = await compute.RunAsync(
            $"scan {this.GetPrimaryKeyString()}",
            (device, _) =>
            {
                using var synthetic = EmbeddingSet.ReadRows(
                    syntheticPath,
                    spec.SyntheticStart,
                    spec.SyntheticCount,
                    device
                );
                using var real = EmbeddingSet.ReadRows(realPath, spec.RealStart, spec.RealCount, device);
                var tile = new ScanTile(spec.SyntheticStart, spec.SyntheticCount, spec.RealStart, spec.RealCount);
                return PairwiseScan.RunSlices(synthetic, real, tile, spec.TopK).ToBytes();
            },
            stopping
        );
        return new AuditTileResult(
            spec,
            await artifacts.PutBytesAsync(bytes, "scan-tile"),
            silo.SiloAddress.ToString()
        );
    }
}
