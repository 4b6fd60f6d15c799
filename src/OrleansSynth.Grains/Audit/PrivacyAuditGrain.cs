using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Datasets;
using OrleansSynth.Grains.FanOut;
using OrleansSynth.Grains.Placement;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;
using static TorchSharp.torch;

namespace OrleansSynth.Grains.Audit;

/// <summary>
/// A privacy audit across the cluster: prepares the encoder and embeddings (cached by content), spreads the scan
/// tiles over the silos with retries, reduces their top-k results and records the report. After losing its silo
/// it starts over on the next activation; cached encoders and idempotent tiles make that cheap.
/// </summary>
// Placed like training: it trains the encoder and embeds every real record on its silo's compute slots.
[PreferGpuSilos]
public sealed partial class PrivacyAuditGrain(
    [PersistentState("audit", GrainStorageNames.Default)] IPersistentState<PrivacyAuditState> state,
    ComputeWorker compute,
    IArtifactStore artifacts,
    DatasetCache datasets,
    IOptions<ComputeWorkerOptions> options,
    Telemetry.PipelineMetrics metrics,
    ILogger<PrivacyAuditGrain> logger
) : StageGrain<AuditSpec>, IPrivacyAuditGrain
{
    private List<AuditTileSpec> _tiles = [];
    private int _tilesTotal;
    private int _tilesDone;

    // Written by the compute slot that trains the audit's models, read by status calls.
    private volatile WorkProgress? _preparation;

    protected override IStageWork<AuditSpec> StageState => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A spec stored before a key existed is read as it was meant, before a resume runs it or a start compares
        // the coordinator's spec with it.
        state.State.Spec = state.State.Spec?.WithMissingKeysDefaulted();
        return base.OnActivateAsync(cancellationToken);
    }

    protected override string StageName => "Audit";

    public async Task<AuditStatus> Start(AuditSpec spec)
    {
        await StartStageAsync(spec.WithMissingKeysDefaulted());
        return Snapshot();
    }

    protected override Task ValidateAsync(AuditSpec spec)
    {
        if (spec.SampleBundles.Count == 0)
            throw new ArgumentException("An audit needs at least one sample bundle.");
        if (spec.VerifierSteps < 0)
            throw new ArgumentException($"VerifierSteps must not be negative, was {spec.VerifierSteps}.");
        if (!PipelineSpec.IsVerifierBatchInRange(spec.VerifierBatch))
            throw new ArgumentException(
                $"VerifierBatch must be from {PipelineSpec.MinVerifierBatch} to {PipelineSpec.MaxVerifierBatch}, was "
                    + $"{spec.VerifierBatch}."
            );
        if (!PipelineSpec.IsVerifierLookAlikesInRange(spec.VerifierLookAlikes))
            throw new ArgumentException(
                $"VerifierLookAlikes must be from {PipelineSpec.MinVerifierLookAlikes} to "
                    + $"{PipelineSpec.MaxVerifierLookAlikes}, was {spec.VerifierLookAlikes}."
            );
        return Task.CompletedTask;
    }

    protected override Task PersistAsync() => WriteOneAtATimeAsync(state);

    public async Task<AuditStatus> Retry()
    {
        await RetryStageAsync();
        return Snapshot();
    }

    public Task<AuditStatus> GetStatus() => Task.FromResult(Snapshot());

    public async Task Cancel()
    {
        await CancelStageAsync();
        // Tiles queued or scanning on other silos stop too; a finished tile ignores it.
        await Task.WhenAll(_tiles.Select(t => TileGrain(t).Cancel()));
    }

    private IAuditTileGrain TileGrain(AuditTileSpec tile) =>
        GrainFactory.GetGrain<IAuditTileGrain>($"{tile.AuditId}/{tile.SyntheticStart}-{tile.RealStart}");

    protected override async Task RunAsync()
    {
        var spec = state.State.Spec!;
        var auditId = this.GetPrimaryKeyString();
        var settings = new AuditSettings
        {
            Alpha = spec.Alpha,
            TopK = spec.TopK,
            SyntheticTile = spec.SyntheticTile,
            RealTile = spec.RealTile,
            Canaries = spec.Canaries,
            Verifier =
                spec.VerifierSteps > 0
                    ? new PairVerifierConfig
                    {
                        Steps = spec.VerifierSteps,
                        BatchSize = spec.VerifierBatch,
                        LookAlikeNeighbours = spec.VerifierLookAlikes,
                    }
                    : null,
        };
        try
        {
            var bundlePaths = await artifacts.GetLocalPathsAsync(spec.SampleBundles);
            var scratch = Path.Combine(Path.GetTempPath(), "orleanssynth", "audits", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(scratch);

            // 1. Encoder, calibration and embeddings, on a compute slot of this silo and its device.
            var prepared = await compute.RunAsync(
                $"prepare audit {auditId}",
                (device, token) =>
                {
                    var training = datasets.Get(spec.Dataset, DatasetSplit.Train);
                    var heldOut = datasets.Get(spec.Dataset, DatasetSplit.Test);
                    var synthetic = SampleBundle.Concat(auditId, bundlePaths.Select(SampleBundle.Read).ToList());
                    var config = new ReidentificationEncoderConfig
                    {
                        ImageChannels = training.Channels,
                        ImageSize = training.Height,
                        Steps = spec.EncoderSteps,
                    };
                    var reference = AuditPreparation.Prepare(
                        training,
                        heldOut,
                        config,
                        settings,
                        Path.Combine(options.Value.CacheRoot, "audit"),
                        device,
                        progress: PreparationProgress.Reporter(auditId, metrics, shown => _preparation = shown),
                        cancellationToken: token
                    );
                    PrivacyAuditor.CheckShapes(reference, synthetic);
                    // The canaries are scanned with the samples, in rows after them, by the same tiles.
                    var canaries = PrivacyAuditor.PlantCanaries(reference, settings);
                    var scanned = synthetic.Append(canaries.Images);
                    var scannedEmbeddings = reference.Embed(scanned);
                    var syntheticFile = Path.Combine(scratch, "synthetic.embeddings");
                    var realFile = Path.Combine(scratch, "real.embeddings");
                    EmbeddingSet
                        .FromTensor(scannedEmbeddings, scanned.RecordIds, reference.Model.Fingerprint)
                        .Save(syntheticFile);
                    reference.TrainingEmbeddings.Save(realFile);
                    return new PreparedAudit(
                        reference,
                        synthetic,
                        canaries,
                        scannedEmbeddings,
                        syntheticFile,
                        realFile
                    );
                },
                Cancelled
            );
            using var reference = prepared.Reference;
            using var scannedEmbeddings = prepared.ScannedEmbeddings;
            var syntheticRef = await artifacts.PutFileAsync(prepared.SyntheticFile, "embeddings");
            var realRef = await artifacts.PutFileAsync(prepared.RealFile, "embeddings");
            Directory.Delete(scratch, recursive: true);

            // 2. The tiles, spread over the silos.
            var k = PrivacyAuditor.KeptPerRow(settings);
            var rows = prepared.Synthetic.Count + prepared.Canaries.Count;
            var tiles = ScanTile
                .Plan(rows, reference.TrainingEmbeddings.Count, spec.SyntheticTile, spec.RealTile)
                .Select(t => new AuditTileSpec(
                    auditId,
                    syntheticRef,
                    realRef,
                    t.SyntheticStart,
                    t.SyntheticCount,
                    t.RealStart,
                    t.RealCount,
                    k
                ))
                .ToList();
            (_tiles, _tilesTotal, _tilesDone) = (tiles, tiles.Count, 0);
            metrics.Audit(auditId, 0, tiles.Count);
            var inFlight = await BoundedFanOut.InFlightLimitAsync(
                GrainFactory,
                compute.Slots,
                options.Value.PartsInFlightPerSlot
            );
            var results = await BoundedFanOut.RunAsync(
                tiles,
                inFlight,
                tile => TileGrain(tile).Poll(tile),
                TileDone,
                (tile, e) => LogUnreachable(tile.AuditId, tile.SyntheticStart, tile.RealStart, e.GetType().Name),
                Cancelled
            );

            // 3. Reduce and report.
            var tileBytes = new List<byte[]>();
            foreach (var result in results)
                tileBytes.Add(await artifacts.GetBytesAsync(result.Matches));
            var report = await compute.RunAsync(
                $"reduce audit {auditId}",
                _ =>
                {
                    var matches = TopKMatches.Empty(0, rows, k);
                    foreach (var bytes in tileBytes)
                        matches.MergeFrom(TopKMatches.FromBytes(bytes));
                    return PrivacyAuditor.Report(
                        reference,
                        prepared.Synthetic,
                        prepared.Canaries,
                        scannedEmbeddings,
                        matches,
                        settings
                    );
                },
                Cancelled
            );
            state.State.Report = await artifacts.PutBytesAsync(
                JsonSerializer.SerializeToUtf8Bytes(report, AuditReport.JsonOptions),
                "audit-report"
            );
            var summary = report.Summary;
            state.State.Summary = new AuditSummaryView(
                summary.Total,
                summary.Flagged,
                summary.Rate,
                summary.Threshold,
                summary.Alpha,
                summary.EncoderAuc,
                report.Metrics.SinglingOut.Risk,
                summary.RateUpper,
                summary.Canaries.Planted,
                summary.Canaries.Caught,
                summary.Canaries.Recall,
                summary.VerifierThreshold
            );
            state.State.FlaggedSampleIds = report.Samples.Where(s => s.Flagged).Select(s => s.File).ToList();
            state.State.TilesTotal = tiles.Count;
            state.State.State = WorkState.Completed;
            metrics.Audit(auditId, tiles.Count, tiles.Count, report.Summary.Flagged, report.Summary.Canaries.Recall);
            LogCompleted(auditId, report.Summary.Flagged, report.Summary.Total, tiles.Count);
        }
        catch (Exception e) when (TransientFailures.IsSiloLoss(e))
        {
            LogInterrupted(auditId, e.GetType().Name);
            // a stop or a cancel, not a failure: after a stop the reminder or the next activation starts the audit over
            // (cached, idempotent tiles)
            return;
        }
        catch (Exception e)
        {
            state.State.State = WorkState.Failed;
            state.State.Error = e.Message;
            LogFailed(e, auditId);
        }
        await WriteOneAtATimeAsync(state);
        await StopResumingAsync();
        metrics.Ended(auditId);
    }

    private void TileDone(AuditTileSpec tile, AuditTileResult result)
    {
        _tilesDone++;
        metrics.Audit(tile.AuditId, _tilesDone, _tilesTotal);
        metrics.TileDone(tile.AuditId, (long)tile.SyntheticCount * tile.RealCount);
    }

    private AuditStatus Snapshot()
    {
        var s = state.State;
        var total = s.State == WorkState.Completed ? s.TilesTotal : _tilesTotal;
        var done = s.State == WorkState.Completed ? s.TilesTotal : _tilesDone;
        return new AuditStatus(
            s.State,
            total,
            done,
            s.Summary,
            s.Report,
            s.FlaggedSampleIds,
            s.Error,
            PreparationProgress.Shown(_preparation, s.State)
        );
    }

    private sealed record PreparedAudit(
        AuditReference Reference,
        ImageDataset Synthetic,
        CanarySet Canaries,
        Tensor ScannedEmbeddings,
        string SyntheticFile,
        string RealFile
    );

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Audit {Audit} flagged {Flagged} of {Total} samples over {Tiles} tiles"
    )]
    private partial void LogCompleted(string audit, int flagged, int total, int tiles);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Audit {Audit}: tile {SyntheticStart}-{RealStart} could not be reached ({Error}); polling it again"
    )]
    private partial void LogUnreachable(string audit, int syntheticStart, int realStart, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit {Audit} interrupted ({Reason}); it resumes")]
    private partial void LogInterrupted(string audit, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit {Audit} failed")]
    private partial void LogFailed(Exception exception, string audit);
}

[GenerateSerializer]
public sealed class PrivacyAuditState : IStageWork<AuditSpec>
{
    [Id(0)]
    public AuditSpec? Spec { get; set; }

    [Id(1)]
    public WorkState State { get; set; }

    [Id(2)]
    public AuditSummaryView? Summary { get; set; }

    [Id(3)]
    public ArtifactRef? Report { get; set; }

    [Id(4)]
    public List<string> FlaggedSampleIds { get; set; } = [];

    [Id(5)]
    public int TilesTotal { get; set; }

    [Id(6)]
    public string? Error { get; set; }
}
