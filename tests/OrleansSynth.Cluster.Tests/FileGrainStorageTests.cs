using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansSynth.Abstractions;
using OrleansSynth.Grains.Training;
using OrleansSynth.Silo.Storage;

namespace OrleansSynth.Cluster.Tests;

/// <summary>The embedded mode's grain storage: state survives a new storage instance (a restart); stale writers are
/// refused.</summary>
public sealed class FileGrainStorageTests : IDisposable
{
    private readonly string _root = Path.Combine(
        Path.GetTempPath(),
        "orleanssynth-storage-tests",
        Guid.NewGuid().ToString("N")
    );
    private readonly OrleansGrainStorageSerializer _serializer = new(
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>()
    );

    private FileGrainStorage NewStorage() => new(new FileGrainStorageOptions { Root = _root }, _serializer);

    [Fact]
    public async Task StateWrittenByOneInstanceIsReadByTheNext()
    {
        var grain = GrainId.Create("training", "run/with:odd chars");
        var written = new GrainState<TrainingRunState>(
            new TrainingRunState
            {
                State = WorkState.Running,
                CheckpointStep = 40,
                Resumes = 1,
            }
        );
        await NewStorage().WriteStateAsync("training", grain, written);

        var read = new GrainState<TrainingRunState>(new TrainingRunState());
        await NewStorage().ReadStateAsync("training", grain, read);
        Assert.True(read.RecordExists);
        var state = Assert.IsType<TrainingRunState>(read.State);
        Assert.Equal((WorkState.Running, 40, 1), (state.State, state.CheckpointStep, state.Resumes));
        Assert.Equal(written.ETag, read.ETag);
    }

    [Fact]
    public async Task AStaleWriterIsRefused()
    {
        var grain = GrainId.Create("training", "contended");
        var first = new GrainState<TrainingRunState>(new TrainingRunState());
        var storage = NewStorage();
        await storage.WriteStateAsync("training", grain, first);
        var stale = new GrainState<TrainingRunState>(new TrainingRunState()) { ETag = first.ETag };
        await storage.WriteStateAsync("training", grain, first);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("training", grain, stale));
    }

    [Fact]
    public async Task MissingStateReadsAsNoRecord()
    {
        var read = new GrainState<TrainingRunState>(new TrainingRunState());
        await NewStorage().ReadStateAsync("training", GrainId.Create("training", "never-written"), read);
        Assert.False(read.RecordExists);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException) { }
    }
}
