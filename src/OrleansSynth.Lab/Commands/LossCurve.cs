using System.Globalization;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Lab.Commands;

/// <summary>Writes the loss history as CSV and as a ScottPlot line chart.</summary>
internal static class LossCurve
{
    public static void Write(IReadOnlyList<LossPoint> history, string csvPath, string pngPath)
    {
        File.WriteAllLines(
            csvPath,
            ["step,loss", .. history.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Step},{p.Loss:G6}"))]
        );
        var plot = new ScottPlot.Plot();
        plot.Add.Scatter(history.Select(p => (double)p.Step).ToArray(), history.Select(p => p.Loss).ToArray());
        plot.Title("Diffusion training loss");
        plot.XLabel("step");
        plot.YLabel("epsilon MSE");
        plot.SavePng(pngPath, 640, 400);
    }
}
