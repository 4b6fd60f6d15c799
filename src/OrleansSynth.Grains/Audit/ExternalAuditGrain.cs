using System.Text.Json;
using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Security;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;

namespace OrleansSynth.Grains.Audit;

/// <summary>
/// Audit as a service: reads the folder into a sample bundle on a compute slot, runs the cluster's audit on it (the
/// same grain, tiles and canaries as a pipeline's), and keeps two reports: the audit's own (internal: it names real
/// records) and a shareable one with the summary and aggregate metrics only.
/// </summary>
public sealed partial class ExternalAuditGrain(
    [PersistentState("external-audit", GrainStorageNames.Default)] IPersistentState<ExternalAuditState> state,
    ComputeWorker compute,
    IArtifactStore artifacts,
    Datasets.DataRoots roots,
    ILogger<ExternalAuditGrain> logger
) : LongRunningGrain, IExternalAuditGrain
{
    private Task? _work;

    protected override bool IsRunning => state.State.State == WorkState.Running;

    protected override bool IsWorking => _work is { IsCompleted: false };

    protected override void ResumeWork() => _work = RunAsync();

    private string AuditId => $"{this.GetPrimaryKeyString()}/audit";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        KeepActiveWhile(() => IsRunning);
        if (IsRunning)
            ResumeWork();
        return Task.CompletedTask;
    }

    public async Task<ExternalAuditStatus> Submit(ExternalAuditSpec spec)
    {
        if (state.State.Spec is { } existing)
        {
            if (existing != spec)
                throw new ArgumentException(
                    $"Audit '{this.GetPrimaryKeyString()}' exists with other settings; submit under another name."
                );
            return await GetStatus();
        }
        if (spec.Alpha is <= 0 or >= 1)
            throw new ArgumentException($"alpha must be strictly between 0 and 1, was {spec.Alpha}.");
        if (spec.Canaries < 0 || spec.EncoderSteps < 0 || spec.VerifierSteps < 0)
            throw new ArgumentException("canaries, encoder steps and verifier steps must not be negative.");
        if (!Directory.Exists(spec.SyntheticFolder))
            throw new DirectoryNotFoundException($"{spec.SyntheticFolder}: no such folder on the silo.");
        roots.Demand(spec.SyntheticFolder, "auditing the folder");
        state.State.Spec = spec;
        state.State.State = WorkState.Running;
        await WriteOneAtATimeAsync(state);
        await KeepResumingAsync();
        _work = RunAsync();
        return await GetStatus();
    }

    public async Task<ExternalAuditStatus> GetStatus()
    {
        var s = state.State;
        var audit = s.Bundle is null ? null : await GrainFactory.GetGrain<IPrivacyAuditGrain>(AuditId).GetStatus();
        return new ExternalAuditStatus(
            s.State,
            s.Images,
            audit?.TilesDone ?? 0,
            audit?.TilesTotal ?? 0,
            audit?.Summary,
            s.Report,
            s.InternalReport,
            s.Error
        );
    }

    public async Task<byte[]> ReadReport(long offset, int count) =>
        await artifacts.ReadChunkAsync(
            state.State.Report
                ?? throw new InvalidOperationException($"Audit '{this.GetPrimaryKeyString()}' has not finished."),
            offset,
            count
        );

    public async Task<byte[]> ReadInternalReport(long offset, int count)
    {
        return await artifacts.ReadChunkAsync(
            state.State.InternalReport
                ?? throw new InvalidOperationException($"Audit '{this.GetPrimaryKeyString()}' has not finished."),
            offset,
            count
        );
    }

    private async Task RunAsync()
    {
        var spec = state.State.Spec!;
        var name = this.GetPrimaryKeyString();
        try
        {
            var info = await GrainFactory.GetGrain<IDatasetGrain>(spec.Dataset).Register();
            if (state.State.Bundle is null)
            {
                var scratch = Path.Combine(
                    Path.GetTempPath(),
                    "orleanssynth",
                    "external-audits",
                    $"{Guid.NewGuid():N}.samples"
                );
                Directory.CreateDirectory(Path.GetDirectoryName(scratch)!);
                try
                {
                    // Bad files fail here, on a compute slot, before anything expensive runs.
                    state.State.Images = await compute.RunAsync(
                        $"read {spec.SyntheticFolder}",
                        _ =>
                        {
                            var images = ImageFolder.Load(
                                spec.SyntheticFolder,
                                info.Channels,
                                info.ImageSize,
                                info.ImageSize
                            );
                            SampleBundle.Write(scratch, images);
                            return images.Count;
                        },
                        Cancelled
                    );
                    state.State.Bundle = await artifacts.PutFileAsync(scratch, "sample-bundle");
                    await WriteOneAtATimeAsync(state);
                }
                finally
                {
                    File.Delete(scratch);
                }
            }
            var audit = GrainFactory.GetGrain<IPrivacyAuditGrain>(AuditId);
            await audit.Start(
                new AuditSpec(
                    spec.Dataset,
                    [state.State.Bundle],
                    spec.Alpha,
                    EncoderSteps: spec.EncoderSteps,
                    Canaries: spec.Canaries,
                    VerifierSteps: spec.VerifierSteps
                )
            );
            var done = await WaitUntilDone($"audit {AuditId}", audit.GetStatus, s => s.State, s => s.Error);
            var full = JsonSerializer.Deserialize<AuditReport>(
                await artifacts.GetBytesAsync(done.Report!),
                AuditReport.JsonOptions
            )!;
            // Shareable: the summary and aggregate metrics, named for the folder; no per-sample verdict, no record id.
            var shareable = new
            {
                summary = full.Summary with
                {
                    Synthetic = Path.GetFileName(Path.TrimEndingDirectorySeparator(spec.SyntheticFolder)),
                },
                metrics = full.Metrics,
            };
            state.State.Report = await artifacts.PutBytesAsync(
                JsonSerializer.SerializeToUtf8Bytes(shareable, AuditReport.JsonOptions),
                "audit-summary"
            );
            state.State.InternalReport = done.Report;
            state.State.State = WorkState.Completed;
            LogCompleted(name, full.Summary.Flagged, full.Summary.Total);
        }
        catch (Exception e) when (TransientFailures.IsSiloLoss(e))
        {
            return; // a stop, not a failure: the reminder or the next activation resumes it
        }
        catch (Exception e)
        {
            state.State.State = WorkState.Failed;
            state.State.Error = e.Message;
            LogFailed(e, name);
        }
        await WriteOneAtATimeAsync(state);
        await StopResumingAsync();
    }

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "External audit {Audit}: {Flagged} of {Total} samples flagged"
    )]
    private partial void LogCompleted(string audit, int flagged, int total);

    [LoggerMessage(Level = LogLevel.Error, Message = "External audit {Audit} failed")]
    private partial void LogFailed(Exception exception, string audit);
}

[GenerateSerializer]
public sealed class ExternalAuditState
{
    [Id(0)]
    public ExternalAuditSpec? Spec { get; set; }

    [Id(1)]
    public WorkState State { get; set; }

    [Id(2)]
    public ArtifactRef? Bundle { get; set; }

    [Id(3)]
    public int Images { get; set; }

    [Id(4)]
    public ArtifactRef? Report { get; set; }

    [Id(5)]
    public ArtifactRef? InternalReport { get; set; }

    [Id(6)]
    public string? Error { get; set; }
}
