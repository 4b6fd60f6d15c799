using System.CommandLine;
using System.Text.Json;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.IO;
using OrleansSynth.ML.Runtime;
using Spectre.Console;

namespace OrleansSynth.Lab.Commands;

/// <summary>
/// <c>synth audit</c>: audits any folder of synthetic images against a real dataset's training split and writes
/// a JSON report. Exits 0 whether or not samples were flagged; the report says which.
/// </summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset")
        {
            Description = "Real dataset: name (fashion-mnist) or path (IDX folder, .npz, .csv manifest).",
            Required = true,
        };
        var synthetic = new Option<string>("--synthetic")
        {
            Description = "Folder of synthetic images (PNG) to audit.",
            Required = true,
        };
        var output = new Option<string>("--out")
        {
            Description = "Report file (JSON).",
            DefaultValueFactory = _ => "audit-report.json",
        };
        var alpha = new Option<double>("--alpha")
        {
            Description = "Target false-flag rate on unseen real images.",
            DefaultValueFactory = _ => 0.02,
        };
        var topK = new Option<int>("--top-k")
        {
            Description = "Nearest real records listed per sample.",
            DefaultValueFactory = _ => 5,
        };
        var encoderSteps = new Option<int>("--encoder-steps")
        {
            Description = "Training steps of the re-identification encoder.",
            DefaultValueFactory = _ => new ReidentificationEncoderConfig().Steps,
        };
        var canaries = new Option<int>("--canaries")
        {
            Description = "Near-copies of training records planted in the scan to measure the audit's own recall.",
            DefaultValueFactory = _ => new AuditSettings().Canaries,
        };
        var verifierSteps = new Option<int>("--verifier-steps")
        {
            Description =
                "Training steps of the pair verifier that makes the verdicts (trained once per dataset, cached); 0: "
                + "the encoder's link rule decides.",
            DefaultValueFactory = _ => new PairVerifierConfig().Steps,
        };
        var internalReport = new Option<bool>("--internal")
        {
            Description =
                "Also write each sample's nearest real record ids into the report. They name real records: the "
                + "report is then internal, not for sharing.",
        };
        var allowOutside = new Option<bool>("--allow-paths-outside-manifest")
        {
            Description =
                "Accept CSV manifest rows whose image path is absolute or climbs out of the manifest's folder "
                + "(refused by default).",
        };
        var device = new Option<string>("--device")
        {
            Description = "auto, cpu or cuda[:N].",
            DefaultValueFactory = _ => "auto",
        };
        var cache = new Option<string>("--cache")
        {
            Description = "Folder for the trained encoder and embeddings, reused across audits.",
            DefaultValueFactory = _ => DefaultCache,
        };

        var command = new Command(
            "audit",
            "Audit a folder of synthetic images for re-identification of real training records."
        )
        {
            dataset,
            synthetic,
            output,
            alpha,
            topK,
            encoderSteps,
            canaries,
            verifierSteps,
            internalReport,
            allowOutside,
            device,
            cache,
        };
        command.SetAction(
            (parse, cancellationToken) =>
                LabErrors.Run(async () =>
                {
                    var settings = new AuditSettings
                    {
                        Alpha = parse.GetValue(alpha),
                        TopK = parse.GetValue(topK),
                        Canaries = parse.GetValue(canaries),
                        Verifier = new PairVerifierConfig { Steps = parse.GetValue(verifierSteps) },
                    };
                    if (settings.Canaries < 0)
                        throw new ArgumentException("--canaries must not be negative.");
                    if (settings.Verifier.Steps < 0)
                        throw new ArgumentException("--verifier-steps must not be negative.");
                    if (settings.Alpha is <= 0 or >= 1)
                        throw new ArgumentException($"--alpha must be strictly between 0 and 1, was {settings.Alpha}.");
                    if (settings.TopK < 1)
                        throw new ArgumentException("--top-k must be at least 1.");
                    var outPath = parse.GetValue(output)!;
                    var torchDevice = ComputeDevice.Select(parse.GetValue(device));

                    var training = DatasetCatalog.Load(
                        parse.GetValue(dataset)!,
                        DatasetSplit.Train,
                        parse.GetValue(allowOutside)
                    );
                    var heldOut = DatasetCatalog.Load(
                        parse.GetValue(dataset)!,
                        DatasetSplit.Test,
                        parse.GetValue(allowOutside)
                    );
                    ModelInputShape.Check(parse.GetValue(dataset)!, training, heldOut);
                    // Read the synthetic set first: bad input fails before any expensive work.
                    var images = ImageFolder.Load(
                        parse.GetValue(synthetic)!,
                        training.Channels,
                        training.Height,
                        training.Width
                    );
                    AnsiConsole.WriteLine(
                        $"auditing {images.Count} synthetic images against {training.Count} real training records "
                            + $"of {training.Name}"
                    );

                    var config = new ReidentificationEncoderConfig
                    {
                        ImageChannels = training.Channels,
                        ImageSize = training.Height,
                        Steps = parse.GetValue(encoderSteps),
                    };
                    var report = await Task.Run(
                        () =>
                        {
                            using var reference = AuditPreparation.Prepare(
                                training,
                                heldOut,
                                config,
                                settings,
                                parse.GetValue(cache)!,
                                torchDevice,
                                log: AnsiConsole.WriteLine,
                                progress: (model, p) =>
                                {
                                    if (p.Step % 100 == 0 || p.Step == p.TotalSteps)
                                        AnsiConsole.WriteLine(
                                            $"{model}: step {p.Step}/{p.TotalSteps} loss {p.Loss:F4}"
                                        );
                                },
                                cancellationToken
                            );
                            return PrivacyAuditor.Audit(reference, images, settings);
                        },
                        cancellationToken
                    );

                    // Without --internal the per-sample verdicts keep the file name, the score and the flag, not which
                    // real record was nearest.
                    if (!parse.GetValue(internalReport))
                        report = report with
                        {
                            Samples = report
                                .Samples.Select(v => v with { NearestRecordId = "", NearestRecordIds = [] })
                                .ToList(),
                        };
                    WriteAtomically(outPath, report);
                    Show(report, outPath);
                    return 0;
                })
        );
        return command;
    }

    private static string DefaultCache =>
        Path.Combine(
            Environment.GetFolderPath(
                Environment.SpecialFolder.LocalApplicationData,
                Environment.SpecialFolderOption.Create
            ),
            "orleanssynth",
            "audit-cache"
        );

    private static void WriteAtomically(string path, AuditReport report) =>
        AtomicFile.Write(path, writer =>
            writer.Write(JsonSerializer.SerializeToUtf8Bytes(report, AuditReport.JsonOptions))
        );

    private static void Show(AuditReport report, string path)
    {
        var s = report.Summary;
        var m = report.Metrics;
        var table = new Table().AddColumns("metric", "value");
        table.AddRow("synthetic samples", s.Total.ToString());
        table.AddRow("flagged (re-identified)", $"{s.Flagged} ({s.Rate:P2}, 95% CI {s.RateLower:P2}-{s.RateUpper:P2})");
        table.AddRow("similarity threshold / alpha", $"{s.Threshold:F4} / {s.Alpha}");
        if (s.Link is { } link)
            table.AddRow(
                "verdict: similarity or contrast above",
                $"{link.SimilarityThreshold:F4} or {link.ContrastThreshold:F4} (over {link.Neighbours} nearest)"
            );
        table.AddRow("encoder verification AUC", $"{s.EncoderAuc:F4}");
        table.AddRow(
            "nearest-real similarity, median (synthetic / control)",
            $"{m.SyntheticNearestSimilarity.Median:F4} / {m.ControlNearestSimilarity.Median:F4}"
        );
        table.AddRow(
            "canary recall (planted near-copies caught)",
            $"{s.Canaries.Caught} of {s.Canaries.Planted} ({s.Canaries.Recall:P1}, 95% CI "
                + $"{s.Canaries.Lower:P1}-{s.Canaries.Upper:P1})"
        );
        table.AddRow(
            "singling-out risk (Anonymeter, whole training set)",
            $"{m.SinglingOut.Risk:F4} (95% CI {m.SinglingOut.Lower:F4}-{m.SinglingOut.Upper:F4})"
        );
        table.AddRow(
            "closer to training than to holdout",
            $"{m.HoldoutDistance.CloserToTraining.Rate:P1} (excess {m.HoldoutDistance.Excess:+0.000;-0.000}, p "
                + $"{m.HoldoutDistance.PValue:G3})"
        );
        table.AddRow("exact / near-exact copies", $"{m.ExactCopies} / {m.NearExactCopies}");
        AnsiConsole.Write(table);
        AnsiConsole.WriteLine($"report: {path}");
    }
}
