using OrleansSynth.ML.Training;
using Spectre.Console;

namespace OrleansSynth.Lab.Commands;

/// <summary>
/// Shows training progress: a live Spectre.Console bar on a terminal, one line per report otherwise
/// (CI logs, pipes), so long runs are never silent.
/// </summary>
internal static class TrainingProgressDisplay
{
    public static void Run(string title, int totalSteps, int startStep, Action<Action<TrainingProgress>> train)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            train(p =>
                AnsiConsole.WriteLine(
                    $"{title}: step {p.Step}/{p.TotalSteps}  loss {p.Loss:F4}  {p.ImagesPerSecond:F0} img/s"
                )
            );
            return;
        }
        AnsiConsole
            .Progress()
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new RemainingTimeColumn(),
                new SpinnerColumn()
            )
            .Start(context =>
            {
                var task = context.AddTask(title, maxValue: totalSteps);
                task.Value = startStep;
                train(p =>
                {
                    task.Value = p.Step;
                    task.Description = $"{title} loss {p.Loss:F4} {p.ImagesPerSecond:F0} img/s";
                });
            });
    }
}
