using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Artifacts;
using OrleansSynth.Grains.Compute;
using OrleansSynth.Grains.Datasets;
using OrleansSynth.Grains.FanOut;
using OrleansSynth.Grains.Placement;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Diversity;
using OrleansSynth.ML.Imaging;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Text;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Grains.Sampling;

/// <summary>
/// Produces exactly one shard's samples from a seed fixed by the shard. A plain shard samples global indices
/// [Start, Start + Count), each with a label (from <see cref="SampleLabels"/>) and an id fixed by its index; a twin
/// shard makes the diversity-aware twins of records [Start, Start + Count). A shard that already succeeded returns its
/// stored result.
/// </summary>
[PreferGpuSilos]
public sealed class SamplingShardGrain(
    [PersistentState("shard", GrainStorageNames.Default)] IPersistentState<FanOutPartState<SamplingShardResult>> state,
    ComputeWorker compute,
    IArtifactStore artifacts,
    DatasetCache datasets,
    ILocalSiloDetails silo,
    ILogger<SamplingShardGrain> logger
) : FanOutPartGrain<SamplingShardSpec, SamplingShardResult>(state, logger), ISamplingShardGrain
{
    protected override async Task<SamplingShardResult> ComputeAsync(SamplingShardSpec spec, CancellationToken stopping)
    {
        var checkpoint = await artifacts.GetLocalPathAsync(spec.Job.Checkpoint);
        var bundlePath = Path.Combine(Path.GetTempPath(), "orleanssynth", "shards", $"{Guid.NewGuid():N}.samples");
        Directory.CreateDirectory(Path.GetDirectoryName(bundlePath)!);
        try
        {
            var (ids, twins) = spec.Job.Twins is { } twinSpec
                ? await Twins(
                    spec,
                    twinSpec,
                    checkpoint,
                    await artifacts.GetLocalPathAsync(twinSpec.FeatureExtractor),
                    await artifacts.GetLocalPathAsync(
                        spec.Reidentification
                            ?? throw new ArgumentException("A twin shard needs the calibrated re-identification model.")
                    ),
                    await artifacts.GetLocalPathsAsync(twinSpec.Sources?.Bundles ?? []),
                    bundlePath,
                    stopping
                )
                : (await Plain(spec, checkpoint, bundlePath, stopping), null);
            var bundle = await artifacts.PutFileAsync(bundlePath, "sample-bundle");
            return new SamplingShardResult(
                spec.ShardIndex,
                spec.Start,
                spec.Count,
                bundle,
                silo.SiloAddress.ToString(),
                ids,
                twins
            );
        }
        finally
        {
            File.Delete(bundlePath);
        }
    }

    public static string SampleId(string jobId, int index) => $"{jobId}/{index:D6}";

    private Task<IReadOnlyList<string>> Plain(
        SamplingShardSpec spec,
        string checkpoint,
        string bundlePath,
        CancellationToken stopping
    ) =>
        compute.RunAsync<IReadOnlyList<string>>(
            $"sample {spec.JobId}#{spec.ShardIndex}",
            (device, token) =>
            {
                var (model, header) = DiffusionCheckpoint.LoadForSampling(checkpoint, device);
                using (model)
                {
                    SamplingArithmetic.Apply(model, device);
                    var classes = header.Config.Model.NumClasses;
                    var labels = SampleLabels.For(spec.Job.Count, classes, spec.Job.ClassCounts)[
                        spec.Start..(spec.Start + spec.Count)
                    ];
                    var sampler = DiffusionSamplers.Create(
                        spec.Job.Sampler,
                        new GaussianDiffusion(header.Config.Diffusion),
                        spec.Job.SamplerSteps
                    );
                    var prompts = PromptsFor(spec, header.Config.Model, labels);
                    token.ThrowIfCancellationRequested();
                    using var images = sampler.Sample(
                        model,
                        new SamplingRequest(labels, (long)SeedMixer.Mix(spec.Job.Seed, spec.Start), spec.Job.Guidance)
                        {
                            PromptTokens = prompts is null
                                ? null
                                : new ReportTokenizer(header.Config.Model.Text!).Rows(prompts),
                        }
                    );
                    var size = header.Config.Model.ImageSize;
                    var ids = Enumerable.Range(spec.Start, spec.Count).Select(i => SampleId(spec.JobId, i)).ToArray();
                    SampleBundle.Write(
                        bundlePath,
                        new ImageDataset(
                            $"{spec.JobId}#{spec.ShardIndex}",
                            ImageTensors.ToBytes(images),
                            header.Config.Model.ImageChannels,
                            size,
                            size,
                            labels,
                            ids,
                            numClasses: classes
                        )
                        {
                            Reports = prompts,
                        }
                    );
                    return ids;
                }
            },
            stopping
        );

    /// <summary>Each sample's prompt for a model that reads reports (<see cref="SamplePrompts"/>); null
    /// otherwise.</summary>
    private string?[]? PromptsFor(SamplingShardSpec spec, UNetConfig model, long[] labels)
    {
        if (model.Text is null)
            return null;
        var source = spec.Job.PromptsFrom
            ?? throw new ArgumentException("The checkpoint reads reports, but the job names no dataset to draw from.");
        return SamplePrompts.For(datasets.Get(source, DatasetSplit.Train), labels, spec.Start, spec.Job.Seed);
    }

    /// <summary>The twins of this shard's records. Ids name the position in the job, never the source record.</summary>
    /// <param name="sourceBundles">The synthetic sources' bundles when the spec names them; otherwise the dataset's
    /// training split is twinned.</param>
    private Task<(IReadOnlyList<string>, TwinShardStatistics?)> Twins(
        SamplingShardSpec spec,
        TwinSamplingSpec twins,
        string checkpoint,
        string featureExtractor,
        string reidentification,
        IReadOnlyList<string> sourceBundles,
        string bundlePath,
        CancellationToken stopping
    ) =>
        compute.RunAsync<(IReadOnlyList<string>, TwinShardStatistics?)>(
            $"twins {spec.JobId}#{spec.ShardIndex}",
            (device, token) =>
            {
                var records = twins.Sources is { } synthetic
                    ? SampleBundle.ReadKept(spec.JobId, sourceBundles, synthetic.SampleIds)
                    : datasets.Get(twins.Dataset, DatasetSplit.Train);
                var positions = Enumerable.Range(spec.Start, spec.Count).ToArray();
                var sources = records.Subset(
                    positions.Select(i => TwinRecords.RecordIndex(i, spec.Job.Count, records.Count)).ToArray(),
                    $"{spec.JobId}#{spec.ShardIndex}"
                );
                var (model, header) = DiffusionCheckpoint.LoadForSampling(checkpoint, device);
                using var _ = model;
                SamplingArithmetic.Apply(model, device);
                using var classifier = ClassifierTrainer.LoadModel(featureExtractor, device);
                using var reid = ReidentificationModel.Load(reidentification, device);
                var settings = twins.Options.ToTwinSettings();
                var sampler = DiffusionSamplers.Create(
                    spec.Job.Sampler,
                    new GaussianDiffusion(header.Config.Diffusion),
                    spec.Job.SamplerSteps
                );
                var generator = new TwinGenerator(model, sampler, classifier, reid, settings);
                var batch = generator.Generate(
                    sources,
                    (long)SeedMixer.Mix(spec.Job.Seed, spec.Start),
                    cancellationToken: token
                );

                // A record's twin is "{job}/{position}", its extras "{job}/{position}+1", "+2" and so on (they follow
                // their twin).
                var ids = new string[batch.Count];
                for (int i = 0, rank = 0; i < batch.Count; i++)
                {
                    rank = i > 0 && batch.SourcePositions[i] == batch.SourcePositions[i - 1] ? rank + 1 : 0;
                    var id = SampleId(spec.JobId, positions[batch.SourcePositions[i]]);
                    ids[i] = rank == 0 ? id : $"{id}+{rank}";
                }
                SampleBundle.Write(
                    bundlePath,
                    new ImageDataset(
                        $"{spec.JobId}#{spec.ShardIndex}",
                        batch.Pixels,
                        records.Channels,
                        records.Height,
                        records.Width,
                        batch.Labels,
                        ids,
                        numClasses: records.NumClasses
                    )
                    {
                        Reports = batch.Prompts,
                    }
                );
                var s = batch.Statistics;
                return (
                    (IReadOnlyList<string>)ids,
                    (TwinShardStatistics?)
                        new TwinShardStatistics(
                            s.Records,
                            s.Twins,
                            s.Extras,
                            s.CandidatesDrawn,
                            s.RejectedLinked,
                            s.Retries,
                            s.Skipped,
                            s.MeanFinalGuidance,
                            s.LowestFinalGuidance
                        )
                );
            },
            stopping
        );
}
