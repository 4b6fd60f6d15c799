using TorchSharp;
using TorchSharp.Modules;

namespace OrleansSynth.ML.Training;

/// <summary>
/// The checkpoint file of a training loop that resumes from where it stopped: loaded when it exists (and refused when
/// it belongs to another run: other data or settings), saved at the loop's own steps and when the loop is cancelled.
/// Without a path it does nothing. Its header holds the config, the step, the last loss and the data's fingerprint.
/// </summary>
/// <param name="what">What trains, for the refusal ("encoder", "verifier").</param>
public sealed class ResumableTraining<TConfig>(
    string? path,
    string magic,
    string what,
    TConfig config,
    string fingerprint,
    torch.nn.Module model,
    OptimizerHelper optimizer,
    Action<int>? checkpointed
)
    where TConfig : class
{
    public sealed record Header(TConfig Config, int Step, double LastLoss, string TrainingFingerprint);

    /// <summary>The step to start from and the last loss: the checkpoint's, or (0, NaN) for a fresh run.</summary>
    public (int Step, double LastLoss) Resume()
    {
        if (path is null || !File.Exists(path))
            return (0, double.NaN);
        var header = ModelCheckpoint<Header>.Load(path, magic, model, optimizer);
        if (
            header.TrainingFingerprint != fingerprint
            || !EqualityComparer<TConfig>.Default.Equals(header.Config, config)
        )
            throw new InvalidDataException($"{path} belongs to another {what} run (different data or settings).");
        return (header.Step, header.LastLoss);
    }

    public void Save(int step, double lastLoss)
    {
        if (path is null)
            return;
        ModelCheckpoint<Header>.Save(path, magic, new Header(config, step, lastLoss, fingerprint), model, optimizer);
        checkpointed?.Invoke(step);
    }

    /// <summary>Before a step: when cancellation was asked for, saves the step reached and throws.</summary>
    public void SaveIfCancelled(int step, double lastLoss, CancellationToken cancellationToken)
    {
        if (!cancellationToken.IsCancellationRequested)
            return;
        Save(step, lastLoss);
        cancellationToken.ThrowIfCancellationRequested();
    }
}
