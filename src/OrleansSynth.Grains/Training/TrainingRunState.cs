using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Training;

[GenerateSerializer]
public sealed class TrainingRunState : IStageWork<TrainingRunSpec>
{
    [Id(0)]
    public TrainingRunSpec? Spec { get; set; }

    [Id(1)]
    public WorkState State { get; set; }

    [Id(2)]
    public ArtifactRef? Checkpoint { get; set; }

    [Id(3)]
    public int CheckpointStep { get; set; }

    [Id(4)]
    public double? LastLoss { get; set; }

    [Id(5)]
    public int Resumes { get; set; }

    [Id(6)]
    public string? Error { get; set; }

    [Id(7)]
    public Dictionary<string, double>? Metrics { get; set; }

    [Id(8)]
    public List<string>? DataSources { get; set; }
}
