using System.Globalization;
using System.Text;

namespace OrleansSynth.Reports;

/// <summary>
/// The model card and the dataset card every release carries (Markdown): what the release is, where it came from in
/// the data holder's words, how it was made (no seeds), the audit's numbers named for what each measures, what the
/// audit does not guarantee, utility and fidelity, licence and contact. Built from the shareable report alone.
/// </summary>
public static class ReleaseCards
{
    public const string ModelCardFile = "MODEL_CARD.md";
    public const string DatasetCardFile = "DATASET_CARD.md";

    /// <param name="readsReports">The model reads a prompt (it was trained with the dataset's reports).</param>
    public static string Model(PipelineReport report, CardDetails details, bool readsReports = false)
    {
        var card = new StringBuilder();
        card.AppendLine($"# Model card: synthetic-image diffusion model, run {report.Run}").AppendLine();
        card.AppendLine("## What it is").AppendLine();
        card.AppendLine(
                "A class-conditional denoising diffusion model (a UNet predicting noise) that draws synthetic "
                    + "images, one class label per image. It is the **student** of privacy distillation: it was "
                    + "trained only on "
                    + "synthetic images a teacher model drew from the real data, after every image a "
                    + "re-identification model "
                    + "linked to a real training record had been removed. It never saw a real image."
            )
            .AppendLine();
        if (readsReports)
            card.AppendLine(
                    "It also reads a prompt, a report in words (`python3 model/sample.py --prompt \"...\"`): a small "
                        + "text encoder trained with it reads GPT-2's tokens. The prompts it learned from were the "
                        + "reports of the real training records, paired with the synthetic images drawn from them. "
                        + "It knows only the tokens of at least ten patients' reports (or of ten distinct reports "
                        + "where patients are not named); any other word reads as unknown, so no weight depends on a "
                        + "rare word such as a name. `model/config.json` lists the tokens it knows. The privacy audit "
                        + "judges images only: **nothing here is a privacy guarantee for the text**. Phrases common "
                        + "in the reports shape what a prompt draws, and the text encoder's weights hold what it "
                        + "learned from them."
                )
                .AppendLine();
        card.AppendLine("- `model/model.safetensors`: the weights (exponential moving average), float32.");
        card.AppendLine(
            "- `model/config.json`: architecture, noise schedule, the sampler the release was audited with, "
                + "class names."
        );
        card.AppendLine(
            "- `model/sample.py`: rebuilds the network with PyTorch alone and samples: "
                + "`python3 model/sample.py --count 16 --out samples/`."
        );
        if (readsReports)
            card.AppendLine(
                "- `model/tokenizer.tiktoken`: GPT-2's public vocabulary, which `sample.py` reads prompts with."
            );
        card.AppendLine("- `student.ckpt`: the same weights for OrleansSynth's own tools (.NET).").AppendLine();
        Uses(card, details, "model");
        Source(card, details);
        Training(card, report);
        Privacy(card, report);
        Utility(card, report);
        Terms(card, details);
        return card.ToString();
    }

    public static string Dataset(
        PipelineReport report,
        CardDetails details,
        int channels,
        int height,
        int width,
        IReadOnlyList<int> labelCounts
    )
    {
        var card = new StringBuilder();
        card.AppendLine($"# Dataset card: synthetic images, run {report.Run}").AppendLine();
        card.AppendLine("## What it is").AppendLine();
        card.AppendLine(
                $"{report.Release.ReleasedSamples} synthetic images ({width}×{height}, "
                    + $"{(channels == 1 ? "greyscale" : $"{channels} channels")}, 8-bit PNG) drawn by a diffusion "
                    + $"model, each "
                    + "with a class label. No image is a real patient's; every released image passed the privacy "
                    + "audit below, "
                    + "and images it linked to a real training record were removed. File names are in a random "
                    + "order and say "
                    + "nothing of how or from what an image was made."
            )
            .AppendLine();
        card.AppendLine("| label | name | images |").AppendLine("|---|---|---|");
        for (var label = 0; label < labelCounts.Count; label++)
            card.AppendLine($"| {label} | {Escape(ClassName(details, label))} | {labelCounts[label]} |");
        card.AppendLine();
        card.AppendLine("`synthetic/metadata.csv` lists `file_name,label` (the Hugging Face `imagefolder` layout):");
        card.AppendLine();
        card.AppendLine("```python");
        card.AppendLine("from datasets import load_dataset");
        card.AppendLine("synthetic = load_dataset(\"imagefolder\", data_dir=\"synthetic\", split=\"train\")");
        card.AppendLine("print(synthetic[0][\"image\"], synthetic[0][\"label\"])");
        card.AppendLine("```").AppendLine();
        Uses(card, details, "dataset");
        Source(card, details);
        Training(card, report);
        Privacy(card, report);
        Utility(card, report);
        Terms(card, details);
        return card.ToString();
    }

    private static void Uses(StringBuilder card, CardDetails details, string what)
    {
        card.AppendLine("## Intended use").AppendLine();
        card.AppendLine(details.IntendedUse is { Length: > 0 } use ? Escape(use) : "The data holder did not state one.")
            .AppendLine();
        card.AppendLine("## Not for").AppendLine();
        if (details.OutOfScopeUse is { Length: > 0 } excluded)
            card.AppendLine(Escape(excluded)).AppendLine();
        card.AppendLine(
            $"- Diagnosis, treatment or any decision about a person: the {what} describes no real patient."
        );
        card.AppendLine(
            "- Learning facts about any individual in the source data, or trying to: the audit below is "
                + "evidence against it, not a proof it is impossible."
        );
        card.AppendLine(
                "- Measuring a real population's statistics exactly: synthetic images follow the source data "
                    + "approximately (see utility and fidelity)."
            )
            .AppendLine();
    }

    private static void Source(StringBuilder card, CardDetails details)
    {
        card.AppendLine("## Data source").AppendLine();
        card.AppendLine(
                details.DataSource is { Length: > 0 } source ? Escape(source) : "The data holder did not describe it."
            )
            .AppendLine();
    }

    private static void Training(StringBuilder card, PipelineReport report)
    {
        var s = report.Settings;
        card.AppendLine("## How it was made").AppendLine();
        card.AppendLine(
                $"Strategy `{report.Strategy}`. Teacher: {s.TeacherSteps} training steps at learning rate "
                    + $"{Num(s.TeacherLearningRate)}"
                    + (
                        s.StudentSteps is { } steps
                            ? $"; student: {steps} steps at {Num(s.StudentLearningRate ?? 0)}"
                            : ""
                    )
                    + $". Sampler {s.Sampler}, {s.SamplerSteps} steps, guidance {Num(s.Guidance)}. Audit: alpha "
                    + $"{Num(s.Alpha)}, "
                    + $"{s.Canaries} canaries, encoder {s.EncoderSteps} steps, "
                    + (
                        s.Verifier is { } v
                            ? $"pair verifier {v.Steps} steps of {v.Batch} pairs, its negatives among each record's "
                                + $"{v.LookAlikes} nearest (network {v.Architecture})"
                            : "no pair verifier (the encoder's link rule)"
                    )
                    + $". Gate set by {s.PolicySetBy}. "
                    + "No seed is released."
            )
            .AppendLine();
    }

    private static void Privacy(StringBuilder card, PipelineReport report)
    {
        var gate = report.Release;
        card.AppendLine("## Privacy audit").AppendLine();
        card.AppendLine(
                $"Release decision: **{(gate.Released ? "released" : "refused")}**. Minimum canary recall "
                    + $"{Pct(gate.MinimumCanaryRecall)}"
                    + (
                        gate.StudentFlaggedRateUpper is { } upper
                            ? $"; student flagged-rate upper bound {Pct(upper)} against a ceiling of "
                                + $"{Pct(gate.StudentFlaggedRateCeiling)}"
                            : ""
                    )
                    + "."
            )
            .AppendLine();
        card.AppendLine(
            "| set | samples | re-identification rate (95% CI) | canary recall (95% CI) "
                + "| singling-out risk (95% CI) | closer to training than holdout (p) | exact / near copies |"
        );
        card.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (name, p) in Sets(report))
        {
            var c = p.Summary.Canaries;
            var h = p.HoldoutDistance;
            card.AppendLine(
                $"| {name} | {p.Summary.Total} | {Pct(p.Summary.Rate)} ({Pct(p.Summary.RateLower)}–"
                    + $"{Pct(p.Summary.RateUpper)}) | {Pct(c.Recall)} ({Pct(c.Lower)}–{Pct(c.Upper)}) | "
                    + $"{Num(p.SinglingOut.Risk)} ({Num(p.SinglingOut.Lower)}–{Num(p.SinglingOut.Upper)}) | "
                    + $"{Pct(h.CloserToTraining.Rate)} (p = {h.PValue.ToString("G3", CultureInfo.InvariantCulture)}) | "
                    + $"{p.ExactCopies} / {p.NearExactCopies} |"
            );
        }
        card.AppendLine();
        card.AppendLine("What each number measures:");
        card.AppendLine(
            "- **Re-identification rate**: the share of synthetic samples that this audit's "
                + "re-identification model links to a real training record (flagged samples were removed before "
                + "release)."
        );
        card.AppendLine(
            "- **Canary recall**: the share of planted near-copies of training records the audit caught: "
                + "its own sensitivity, which the gate requires to be high before it trusts a low rate."
        );
        card.AppendLine(
            "- **Singling-out risk**: Anonymeter's measure: how much more often a synthetic image isolates "
                + "exactly one training record than one record of a held-out set nobody trained on."
        );
        card.AppendLine(
            "- **Closer to training than holdout**: the share of samples whose nearest real image is a "
                + "training record rather than an equally large held-out set's; about half without memorisation."
        );
        card.AppendLine(
                "- **Exact / near copies**: samples that are pixel copies, or near-pixel copies, of a training "
                    + "image."
            )
            .AppendLine();
        card.AppendLine("What the audit does not guarantee:");
        card.AppendLine("- It is not differential privacy: there is no epsilon bound on what the release reveals.");
        card.AppendLine(
            "- It measures linkage by its own re-identification model; an attacker with a stronger model "
                + "or knowledge from outside the release is not covered."
        );
        card.AppendLine("- Confidence intervals are 95%; a rate of zero flagged does not mean zero risk.");
        card.AppendLine("- Images sampled anew from a released model were not audited; the released images were.");
        card.AppendLine();
    }

    private static void Utility(StringBuilder card, PipelineReport report)
    {
        var u = report.Utility;
        card.AppendLine("## Utility and fidelity").AppendLine();
        card.AppendLine(
                "One classifier recipe trained on each set and tested on the real test split; gaps are points "
                    + "below the real-trained classifier (macro one-vs-rest AUROC is the diversity-aware diffusion "
                    + "paper's "
                    + "metric; its headline is a gap within about 1 point)."
            )
            .AppendLine();
        card.AppendLine("| trained on | accuracy | macro AUROC | accuracy gap | AUROC gap | Fréchet distance |");
        card.AppendLine("|---|---|---|---|---|---|");
        card.AppendLine($"| real | {Pct(u.Real.Accuracy)} | {Num(u.Real.MacroAuc)} | – | – | – |");
        var teacherSet = report.Twins is null ? "teacher synthetic" : "twins";
        card.AppendLine(
            $"| {teacherSet} | {Pct(u.Teacher.Accuracy)} | {Num(u.Teacher.MacroAuc)} | "
                + $"{Points(u.TeacherGapPoints)} | {Points(u.TeacherAurocGapPoints)} | "
                + $"{Num(report.TeacherFidelity.FrechetDistance)} |"
        );
        if (u.Student is { } student)
            card.AppendLine(
                $"| student synthetic | {Pct(student.Accuracy)} | {Num(student.MacroAuc)} | "
                    + $"{Points(u.StudentGapPoints ?? 0)} | {Points(u.StudentAurocGapPoints ?? 0)} | "
                    + $"{Num(report.StudentFidelity?.FrechetDistance ?? double.NaN)} |"
            );
        card.AppendLine();
    }

    private static void Terms(StringBuilder card, CardDetails details)
    {
        card.AppendLine("## Licence").AppendLine();
        card.AppendLine(details.Licence is { Length: > 0 } licence ? Escape(licence) : "Not stated: ask the contact.")
            .AppendLine();
        card.AppendLine("## Contact").AppendLine();
        card.AppendLine(details.Contact is { Length: > 0 } contact ? Escape(contact) : "Not stated.").AppendLine();
        card.AppendLine("The full numbers are in `report.json` and `report.html` beside this card.");
    }

    private static IEnumerable<(string Name, PrivacyNumbers Numbers)> Sets(PipelineReport report)
    {
        yield return (report.Twins is null ? "teacher" : "twins", report.Teacher);
        if (report.Student is { } student)
            yield return ("student", student);
    }

    public static string ClassName(CardDetails details, int label) =>
        details.ClassNames is { } names && label < names.Count
            ? names[label]
            : label.ToString(CultureInfo.InvariantCulture);

    // The data holder's text goes into Markdown as text: no raw HTML, no table breaking pipes.
    private static string Escape(string text) =>
        text.Replace("<", "&lt;", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal);

    private static string Pct(double value) =>
        double.IsFinite(value) ? value.ToString("P1", CultureInfo.InvariantCulture) : "n/a";

    private static string Num(double value) =>
        double.IsFinite(value) ? value.ToString("G3", CultureInfo.InvariantCulture) : "n/a";

    private static string Points(double value) => value.ToString("F1", CultureInfo.InvariantCulture);
}
