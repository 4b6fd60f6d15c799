using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Placement;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Grains.Sampling;

/// <summary>
/// Produces exactly one shard's samples: global indices [Start, Start + Count), each with a label (from
/// <see cref="SampleLabels"/>) and an id fixed by its index, from a seed fixed by the shard. A shard that already succeeded returns its stored result.
/// </summary>
[PreferGpuSilos]
public sealed partial class SamplingShardGrain(
    [PersistentState("shard", GrainStorageNames.Default)] IPersistentState<SamplingShardState> state,
    ComputeWorker compute, IArtifactStore artifacts, ILocalSiloDetails silo, ILogger<SamplingShardGrain> logger) : Grain, ISamplingShardGrain
{
    private readonly CancellationTokenSource _deactivating = new();

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => _deactivating.CancelAsync();

    public async Task<SamplingShardResult> Run(SamplingShardSpec spec)
    {
        if (state.State.Result is { } done) return done;
        var checkpoint = await artifacts.GetLocalPathAsync(spec.Job.Checkpoint);
        var bundlePath = Path.Combine(Path.GetTempPath(), "orleanssynth", "shards", $"{Guid.NewGuid():N}.samples");
        Directory.CreateDirectory(Path.GetDirectoryName(bundlePath)!);
        try
        {
            await compute.RunAsync($"sample {spec.JobId}#{spec.ShardIndex}", token =>
            {
                var (model, header) = DiffusionCheckpoint.LoadForSampling(checkpoint);
                using (model)
                {
                    var classes = header.Config.Model.NumClasses;
                    var labels = SampleLabels.For(spec.Job.Count, classes, spec.Job.ClassCounts)[spec.Start..(spec.Start + spec.Count)];
                    var sampler = new DdimSampler(new GaussianDiffusion(header.Config.Diffusion), Math.Min(spec.Job.DdimSteps, header.Config.Diffusion.Timesteps));
                    token.ThrowIfCancellationRequested();
                    using var images = sampler.Sample(model, new SamplingRequest(labels, (long)SeedMixer.Mix(spec.Job.Seed, spec.Start), spec.Job.Guidance));
                    var c = header.Config.Model.ImageChannels;
                    var size = header.Config.Model.ImageSize;
                    var ids = Enumerable.Range(spec.Start, spec.Count).Select(i => SampleId(spec.JobId, i)).ToArray();
                    SampleBundle.Write(bundlePath, new ImageDataset($"{spec.JobId}#{spec.ShardIndex}", ImageTensors.ToBytes(images), c, size, size, labels, ids, numClasses: classes));
                }
                return true;
            }, _deactivating.Token);
            var bundle = await artifacts.PutFileAsync(bundlePath, "sample-bundle");
            state.State.Result = new SamplingShardResult(spec.ShardIndex, spec.Start, spec.Count, bundle, silo.SiloAddress.ToString());
            await state.WriteStateAsync();
            LogDone(spec.JobId, spec.ShardIndex, spec.Count);
            return state.State.Result;
        }
        finally
        {
            File.Delete(bundlePath);
        }
    }

    public static string SampleId(string jobId, int index) => $"{jobId}/{index:D6}";

    [LoggerMessage(Level = LogLevel.Information, Message = "Sampling job {Job}: shard {Shard} wrote {Count} samples")]
    private partial void LogDone(string job, int shard, int count);
}

[GenerateSerializer]
public sealed class SamplingShardState
{
    [Id(0)] public SamplingShardResult? Result { get; set; }
}
