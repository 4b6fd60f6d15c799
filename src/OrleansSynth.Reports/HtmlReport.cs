using System.Globalization;
using System.Net;
using System.Text;
using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Diversity;
using OrleansSynth.ML.Evaluation;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Reports;

/// <summary>
/// Renders a <see cref="PipelineReport"/> as one self-contained HTML page: sample grids, similarity histograms with
/// the threshold, loss curves and the utility table, charts drawn with ScottPlot and embedded as PNG.
/// </summary>
public static class HtmlReport
{
    /// <param name="releasedGridPng">The released samples, one row per class: the only images on the page.</param>
    public static string Render(PipelineReport report, byte[] releasedGridPng)
    {
        // The teacher's set is its plain samples or, for the diversity-aware strategies, its twins.
        var teacherSet = report.Twins is null ? "teacher" : "twins";
        var html = new StringBuilder();
        html.Append(
            $"<!doctype html><html><head><meta charset=\"utf-8\"><title>OrleansSynth run {Encode(report.Run)}</title>"
        );
        html.Append(
            "<style>body{font-family:sans-serif;max-width:1100px;margin:2em "
                + "auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px "
                + "10px;text-align:right}th{background:#f3f3f3}img{max-width:100%}.pair{display:flex;gap:"
                + "1em}</style></head><body>"
        );
        html.Append($"<h1>OrleansSynth run <code>{Encode(report.Run)}</code> ({Encode(report.Strategy)})</h1>");
        html.Append(
            "<p>Shareable report: aggregate numbers, and images only of released synthetic samples that passed the "
                + "filter and the final gate.</p>"
        );
        var gate = report.Release;
        html.Append(
            $"<p><b>Release: {(gate.Released ? "released" : "refused")}</b> — {gate.ReleasedSamples} synthetic "
                + $"samples{(gate.ModelReleased ? " and the student model" : "")}. "
        );
        if (gate.StudentFlaggedRateUpper is { } upper)
            html.Append(
                $"Student flagged-rate upper bound {Pct(upper)} against a ceiling of "
                    + $"{Pct(gate.StudentFlaggedRateCeiling)}; {gate.StudentFilteredOut} flagged student samples "
                    + $"removed. "
            );
        html.Append($"Minimum canary recall {Pct(gate.MinimumCanaryRecall)}.");
        if (gate.Reasons.Count > 0)
            html.Append(" Refused because: ").Append(Encode(string.Join("; ", gate.Reasons))).Append('.');
        html.Append("</p>");
        if (gate.Released)
            html.Append(
                $"<p>Read first: the <a href=\"{ReleaseCards.DatasetCardFile}\">dataset card</a>"
                    + (gate.ModelReleased ? $" and the <a href=\"{ReleaseCards.ModelCardFile}\">model card</a>" : "")
                    + ": what the release is for and not for, and what its numbers do not guarantee.</p>"
            );

        html.Append(
            "<h2>Privacy</h2><table><tr><th></th><th>samples</th><th>flagged</th><th>re-identification rate (95% "
                + "CI)</th><th>canary recall (95% CI)</th><th>singling-out risk (95% CI)</th><th>closer to training "
                + "than holdout (p)</th><th>exact / near copies</th></tr>"
        );
        foreach (var (name, p) in Sets(teacherSet, report.Teacher, report.Student))
        {
            var c = p.Summary.Canaries;
            var h = p.HoldoutDistance;
            html.Append(
                $"<tr><td>{name}</td><td>{p.Summary.Total}</td><td>{p.Summary.Flagged}</td><td>"
                    + $"{Pct(p.Summary.Rate)} ({Pct(p.Summary.RateLower)}–{Pct(p.Summary.RateUpper)})</td>"
            );
            html.Append(
                $"<td>{c.Caught} / {c.Planted} = {Pct(c.Recall)} "
                    + $"({Pct(c.Lower)}–{Pct(c.Upper)})</td><td>{Num(p.SinglingOut.Risk)} "
                    + $"({Num(p.SinglingOut.Lower)}–{Num(p.SinglingOut.Upper)})</td>"
            );
            html.Append(
                $"<td>{Pct(h.CloserToTraining.Rate)} (p = "
                    + $"{h.PValue.ToString("G3", CultureInfo.InvariantCulture)})</td><td>{p.ExactCopies} / "
                    + $"{p.NearExactCopies}</td></tr>"
            );
        }
        var verdict =
            report.Teacher.Summary.VerifierThreshold is { } v
                ? $"A sample is flagged when the pair verifier, shown it beside its nearest real record, scores it "
                    + $"above {Num(v)} (calibrated at alpha {report.Teacher.Summary.Alpha}); the encoder's own "
                    + $"threshold is {Num(report.Teacher.Summary.Threshold)}"
            : report.Teacher.Summary.Link is { } link
                ? $"A sample is flagged when its nearest real record's similarity is above "
                    + $"{Num(link.SimilarityThreshold)}, or when that record stands out from the sample's "
                    + $"{link.Neighbours} nearest "
                    + $"(contrast (s1 − m) / (1 − m), m their mean similarity, above "
                    + $"{Num(link.ContrastThreshold)}), or when it is a near-exact pixel copy of it; "
                    + $"the two thresholds were set together to flag at most alpha {report.Teacher.Summary.Alpha} "
                    + $"of held-out images ({link.HeldOutFlagged} of {link.HeldOutCount} flagged)"
            : $"A sample is flagged when its nearest real record's similarity is above "
                + $"{Num(report.Teacher.Summary.Threshold)} (calibrated at alpha {report.Teacher.Summary.Alpha})";
        html.Append($"</table><p>{verdict}; encoder verification AUC {Num(report.Teacher.Summary.EncoderAuc)}. ");
        if (report.Teacher.Summary.HeldOutNearCopies is > 0 and var heldOutCopies)
            html.Append(
                $"{heldOutCopies} held-out real images are within the near-copy rule's calibrated tolerance of a "
                    + $"training record; its flags on them count against alpha, and they were left out of the "
                    + $"thresholds' calibration and of the control. "
            );
        html.Append(
            $"The filter removed {report.FilteredOut} {teacherSet} samples and kept {report.KeptAfterFilter}"
                + (report.Student is null ? " (the released set)" : " (the student's training set)")
                + ".</p>"
        );
        html.Append("<div class=\"pair\">");
        foreach (var (name, p) in Sets(teacherSet, report.Teacher, report.Student))
            html.Append(Image(SimilarityHistogram(name, p)));
        html.Append("</div>");

        if (report.Twins is { } total)
        {
            html.Append(
                "<h2>Diversity-aware "
                    + "twins</h2><table><tr><th></th><th>records</th><th>twins</th><th>extras</th><th>skipped</th>"
                    + "<th>candidates drawn</th><th>rejected as linked</th><th>retries</th><th>mean / lowest "
                    + "final guidance</th></tr>"
            );
            var rows = new List<(string, TwinStatistics)>
            {
                (report.StudentTwins is null ? "all" : "teacher, of real records", total),
            };
            if (report.StudentTwins is { } studentTwins)
                rows.Add(("student, of its training twins", studentTwins));
            foreach (var (name, t) in rows)
                html.Append(
                    $"<tr><td>{name}</td><td>{t.Records}</td><td>{t.Twins}</td><td>{t.Extras}</td><td>"
                        + $"{t.Skipped}</td><td>{t.CandidatesDrawn}</td><td>{t.RejectedLinked}</td><td>"
                        + $"{t.Retries}</td><td>{Num(t.MeanFinalGuidance)} / {Num(t.LowestFinalGuidance)}</td></tr>"
                );
            html.Append("</table>");
        }

        html.Append(
            "<h2>Utility (real test split)</h2><table><tr><th>classifier trained on</th><th>accuracy</th>"
                + "<th>macro ROC AUC</th><th>accuracy gap to real (points)</th><th>AUROC gap to real (points)</th></tr>"
        );
        var u = report.Utility;
        html.Append(
            $"<tr><td>real training data</td><td>{Pct(u.Real.Accuracy)}</td><td>{Num(u.Real.MacroAuc)}</td>"
                + "<td>–</td><td>–</td></tr>"
        );
        html.Append(
            $"<tr><td>{teacherSet} synthetic "
                + $"set</td><td>{Pct(u.Teacher.Accuracy)}</td><td>{Num(u.Teacher.MacroAuc)}</td>"
                + $"<td>{u.TeacherGapPoints:F1}</td><td>{u.TeacherAurocGapPoints:F1}</td></tr>"
        );
        if (u.Student is { } student)
            html.Append(
                $"<tr><td>student synthetic set</td><td>{Pct(student.Accuracy)}</td><td>{Num(student.MacroAuc)}</td>"
                    + $"<td>{u.StudentGapPoints:F1}</td><td>{u.StudentAurocGapPoints:F1}</td></tr>"
            );
        html.Append(
            "</table><p>The AUROC gap is 100 × (real − synthetic) macro one-vs-rest ROC AUC, the metric of the "
                + "diversity-aware diffusion paper, whose headline is a gap within about 1 point.</p>"
        );

        html.Append(
            "<h2>Fidelity and diversity (features of the real-trained "
                + "classifier)</h2><table><tr><th></th><th>Fréchet "
                + "distance</th><th>precision</th><th>recall</th><th>coverage</th></tr>"
        );
        foreach (var (name, f) in Sets(teacherSet, report.TeacherFidelity, report.StudentFidelity))
            html.Append(
                $"<tr><td>{name}</td><td>{Num(f.FrechetDistance)}</td><td>{Num(f.Manifold.Precision)}</td><td>"
                    + $"{Num(f.Manifold.Recall)}</td><td>{Num(f.Manifold.Coverage)}</td></tr>"
            );
        html.Append("</table>");

        if (report.PromptAgreement is { } agreement)
            AppendPromptAgreement(html, agreement);

        html.Append("<h2>Released samples (one row per class)</h2>").Append(Image(releasedGridPng));

        html.Append("<h2>Training loss</h2>").Append(Image(LossCurves(report.TeacherLoss, report.StudentLoss ?? [])));

        html.Append("<h2>Stages</h2><table><tr><th>stage</th><th>seconds</th><th>detail</th></tr>");
        foreach (var stage in report.Stages)
            html.Append(
                $"<tr><td>{Encode(stage.Name)}</td><td>"
                    + $"{(stage.Seconds is { } s ? s.ToString("F0", CultureInfo.InvariantCulture) : "")}</td><td "
                    + $"style=\"text-align:left\">{Encode(stage.Detail ?? "")}</td></tr>"
            );
        html.Append("</table></body></html>");
        return html.ToString();
    }

    private static IEnumerable<(string Name, T Value)> Sets<T>(string teacherName, T teacher, T? student)
        where T : class
    {
        yield return (teacherName, teacher);
        if (student is not null)
            yield return ("student", student);
    }

    private static byte[] SimilarityHistogram(string name, PrivacyNumbers privacy)
    {
        var plot = new ScottPlot.Plot();
        AddHistogram(plot, privacy.SyntheticNearestSimilarity, $"{name} synthetic");
        AddHistogram(plot, privacy.ControlNearestSimilarity, "held-out real (control)");
        plot.Add.VerticalLine(privacy.Summary.Threshold).LegendText = "threshold";
        // Nearest-neighbour similarities crowd near 1; show the part of the axis where the samples are.
        var low = Math.Min(privacy.SyntheticNearestSimilarity.Min, privacy.ControlNearestSimilarity.Min);
        if (double.IsFinite(low))
            plot.Axes.SetLimitsX(Math.Max(-1, low - 0.05), 1.0);
        plot.Title($"Nearest-real similarity: {name}");
        plot.XLabel("cosine similarity to the nearest training record");
        plot.YLabel("fraction of samples");
        plot.ShowLegend();
        return plot.GetImageBytes(520, 360, ScottPlot.ImageFormat.Png);
    }

    private static void AddHistogram(ScottPlot.Plot plot, Distribution distribution, string label)
    {
        if (distribution.Count == 0)
            return;
        var centres = distribution.BinEdges.Zip(distribution.BinEdges.Skip(1), (a, b) => (a + b) / 2).ToArray();
        var fractions = distribution.Counts.Select(c => (double)c / distribution.Count).ToArray();
        plot.Add.ScatterLine(centres, fractions).LegendText = label;
    }

    private static byte[] LossCurves(IReadOnlyList<LossPoint> teacher, IReadOnlyList<LossPoint> student)
    {
        var plot = new ScottPlot.Plot();
        if (teacher.Count > 0)
            plot
                .Add.ScatterLine(teacher.Select(p => (double)p.Step).ToArray(), teacher.Select(p => p.Loss).ToArray())
                .LegendText = "teacher";
        if (student.Count > 0)
            plot
                .Add.ScatterLine(student.Select(p => (double)p.Step).ToArray(), student.Select(p => p.Loss).ToArray())
                .LegendText = "student";
        plot.XLabel("step");
        plot.YLabel("epsilon MSE");
        plot.ShowLegend();
        return plot.GetImageBytes(700, 360, ScottPlot.ImageFormat.Png);
    }

    private static string Image(byte[] png) => $"<img src=\"data:image/png;base64,{Convert.ToBase64String(png)}\">";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static void AppendPromptAgreement(StringBuilder html, PromptAgreementNumbers agreement)
    {
        html.Append(
            "<h2>Prompt agreement</h2><table><tr><th>images</th><th>scored</th><th>own prompt's words in nearest "
                + "real reports</th><th>a same-label prompt's words</th><th>lift (points)</th></tr>"
        );
        (string, PromptAgreement?)[] rows =
        [
            ("held-out real images (reference)", agreement.RealTest),
            ("teacher samples", agreement.Teacher),
            ("student samples", agreement.Student),
        ];
        foreach (var (name, a) in rows)
            html.Append(
                a is null
                    ? $"<tr><td>{name}</td><td colspan=\"4\">not measured</td></tr>"
                    : $"<tr><td>{name}</td><td>{a.Scored}</td><td>{Pct(a.Own)}</td><td>{Pct(a.SameLabel)}</td>"
                        + $"<td>{(100 * a.Lift).ToString("F1", CultureInfo.InvariantCulture)}</td></tr>"
            );
        html.Append(
            $"</table><p>For each image, the share of its {PromptReader.DefaultNeighbours} nearest real training "
                + "images (in pooled pixels) whose reports hold each word of its prompt, against the same for prompts "
                + "drawn from the reports of its label. A lift near 0 means the images follow their label and not "
                + "the rest of the prompt. Only words of at least ten patients' reports (ten distinct reports where "
                + "the data name no patients) count. Not measured: twins (drawn from their source record's image as "
                + "well), a set without prompts, or fewer than ten images scored.</p>"
        );
    }

    private static string Pct(double value) =>
        double.IsFinite(value) ? value.ToString("P1", CultureInfo.InvariantCulture) : "n/a";

    private static string Num(double value) =>
        double.IsFinite(value) ? value.ToString("F3", CultureInfo.InvariantCulture) : "n/a";
}
