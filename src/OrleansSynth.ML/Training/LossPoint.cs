namespace OrleansSynth.ML.Training;

/// <summary>Mean training loss over the reporting window that ended at <paramref name="Step"/>.</summary>
public sealed record LossPoint(int Step, double Loss);
