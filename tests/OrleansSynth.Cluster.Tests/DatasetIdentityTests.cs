using OrleansSynth.Abstractions;
using OrleansSynth.ML.Imaging;

namespace OrleansSynth.Cluster.Tests;

/// <summary>A registered dataset is pinned by the content of its images: changed pixels under an unchanged name are
/// refused.</summary>
public sealed class DatasetIdentityTests(TwoSiloCluster cluster) : IClassFixture<TwoSiloCluster>
{
    [Fact]
    public async Task AChangedImageBehindAnUnchangedManifestPathIsRefusedNamingTheFile()
    {
        var folder = Path.Combine(cluster.Root, "csv-dataset");
        var lines = new List<string> { "path,label,patient_id" };
        for (var i = 0; i < 20; i++)
        {
            new PngImage(Enumerable.Repeat((byte)(i * 10), 28 * 28).ToArray(), 1, 28, 28).Write(
                Path.Combine(folder, "img", $"{i:D2}.png")
            );
            lines.Add($"img/{i:D2}.png,{i % 2},patient-{i}");
        }
        var manifest = Path.Combine(folder, "manifest.csv");
        File.WriteAllLines(manifest, lines);

        var dataset = cluster.Client.GetGrain<IDatasetGrain>(manifest);
        var first = await dataset.Register();
        Assert.Equal(first, await dataset.Register());
        Assert.Equal(first, await dataset.Verify());

        var changed = Path.Combine(folder, "img", "07.png");
        var pixels = Enumerable.Repeat((byte)70, 28 * 28).ToArray();
        pixels[300] = 71;
        new PngImage(pixels, 1, 28, 28).Write(changed);
        var error = await Assert.ThrowsAnyAsync<Exception>(dataset.Verify);
        Assert.Contains(changed, error.Message);
        Assert.Contains("changed since dataset", error.Message);

        // A silo loading the changed data for a job refuses it too: the training run fails, naming the file.
        var run = cluster.Grains.GetGrain<ITrainingRunGrain>("changed-data-run");
        await run.Start(
            new TrainingRunSpec(manifest, Steps: 5, BatchSize: 4, BaseChannels: 16, Timesteps: 20, CheckpointEvery: 5)
        );
        var failed = await TwoSiloCluster.WaitFor(
            run.GetStatus,
            s => s.State != WorkState.Running,
            TimeSpan.FromMinutes(2)
        );
        Assert.Equal(WorkState.Failed, failed.State);
        Assert.Contains(changed, failed.Error);
    }
}
