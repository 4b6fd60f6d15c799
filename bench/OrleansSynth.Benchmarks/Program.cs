using OrleansSynth.Benchmarks;

// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- scan [synthetic] [real] [dim] [rounds]
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- planted [copies] [unseen] [encoder steps] [cache
// folder] [alpha] [verifier steps] [verifier batch] [verifier learning rate | -] [training records | -]
// [fashion-mnist | thumbnails | dataset path] [look-alike neighbours] [float32 | bfloat16 | -, the verifier's
// arithmetic]
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- versus-pytorch [threads] [timed steps] [batch]
// [samples] [ddim steps] [rounds]  (bench/scripts/versus-pytorch.sh installs python3-torch)
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- cluster-vs-bare <gateway port> [steps] [batch]
// [rounds]  (bench/scripts/cluster-vs-bare.sh starts the silo)
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- sampler-fidelity [teacher steps] [samples]
// [sampler:steps,...] [cache folder] [teacher learning rate]
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- heldout-copies [dataset] [alpha]
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- audit-memory-data [records] [synthetic] [folder]
// (used by bench/scripts/audit-memory.sh)
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- link-scores [copies] [unseen] [cache folder]
// [verifier steps]  (how the link rule's contrast was chosen)
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- twin-recipe <teacher.ckpt> <feature extractor.ckpt>
// <re-identification model> [dataset] [records] [classifier steps]
// [KxKept@guidance/steps[:batch][+float32|bfloat16] ...]
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- sample-recipe <diffusion checkpoint> [dataset]
// [count] [classifier steps] [guidance/steps ...]
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- classifier-recipe <manifest.csv | real:N> [dataset]
// [recipe ...]
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- audit-precision [verifier steps] [rounds]
// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- training-precision [steps] [rounds]
// Tuned as the silo is, so the numbers are the silo's (the PyTorch reference gets the same settings).
OrleansSynth.ML.Runtime.NativeAllocator.ConfigureAtStart();
var benchmark = args.FirstOrDefault() ?? "scan";
switch (benchmark)
{
    case "scan":
        ScanBenchmark.Run(
            args.Length > 1 ? int.Parse(args[1]) : 20_000,
            args.Length > 2 ? int.Parse(args[2]) : 60_000,
            args.Length > 3 ? int.Parse(args[3]) : 128,
            args.Length > 4 ? int.Parse(args[4]) : 5
        );
        return 0;
    case "planted":
        PlantedCopiesBenchmark.Run(
            args.Length > 1 ? int.Parse(args[1]) : 500,
            args.Length > 2 ? int.Parse(args[2]) : 1000,
            args.Length > 3 ? int.Parse(args[3]) : new OrleansSynth.ML.Audit.ReidentificationEncoderConfig().Steps,
            args.Length > 4 ? args[4] : Path.Combine(Path.GetTempPath(), "orleanssynth-bench-audit-cache"),
            args.Length > 5 ? double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : 0.01,
            args.Length > 6 ? int.Parse(args[6]) : 0,
            args.Length > 7 ? int.Parse(args[7]) : null,
            args.Length > 8 && args[8] != "-"
                ? double.Parse(args[8], System.Globalization.CultureInfo.InvariantCulture)
                : null,
            args.Length > 9 && args[9] != "-" ? int.Parse(args[9]) : null,
            args.Length > 10 ? args[10] : "fashion-mnist",
            args.Length > 11 && args[11] != "-" ? int.Parse(args[11]) : null,
            args.Length > 12 && args[12] != "-"
                ? args[12] switch
                {
                    "bfloat16" => true,
                    "float32" => false,
                    _ => throw new ArgumentException($"arithmetic '{args[12]}': float32, bfloat16 or -"),
                }
                : null
        );
        return 0;
    case "versus-pytorch":
        return VersusPyTorchBenchmark.Run(
            args.Length > 1 ? int.Parse(args[1]) : Environment.ProcessorCount,
            args.Length > 2 ? int.Parse(args[2]) : 40,
            args.Length > 3 ? int.Parse(args[3]) : 64,
            args.Length > 4 ? int.Parse(args[4]) : 100,
            args.Length > 5 ? int.Parse(args[5]) : 25,
            args.Length > 6 ? int.Parse(args[6]) : 3,
            Path.Combine("bench", "pytorch", "reference.py")
        );
    case "cluster-vs-bare" when args.Length > 1:
        return await ClusterVersusBareBenchmark.Run(
            int.Parse(args[1]),
            args.Length > 2 ? int.Parse(args[2]) : 400,
            args.Length > 3 ? int.Parse(args[3]) : 64,
            args.Length > 4 ? int.Parse(args[4]) : 3
        );
    case "sampler-fidelity":
        return SamplerFidelityBenchmark.Run(
            args.Length > 1 ? int.Parse(args[1]) : 1200,
            args.Length > 2 ? int.Parse(args[2]) : 1000,
            (args.Length > 3 ? args[3] : "ddim:25,ddim:10,dpm-solver++:10,dpm-solver++:15")
                .Split(',')
                .Select(s => s.Split(':'))
                .Select(p => (p[0], int.Parse(p[1])))
                .ToArray(),
            args.Length > 4 ? args[4] : Path.Combine(Path.GetTempPath(), "orleanssynth-bench-sampler-fidelity"),
            args.Length > 5 ? double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : 1e-3
        );
    case "audit-memory-data":
        AuditMemoryData.Write(
            args.Length > 1 ? int.Parse(args[1]) : 120_000,
            args.Length > 2 ? int.Parse(args[2]) : 2_000,
            args.Length > 3 ? args[3] : Path.Combine(Path.GetTempPath(), "orleanssynth-bench-audit-memory")
        );
        return 0;
    case "heldout-copies":
        HeldOutCopiesBenchmark.Run(
            args.Length > 1 ? args[1] : "fashion-mnist",
            args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 0.01
        );
        return 0;
    case "classifier-recipe" when args.Length > 1:
        return ClassifierRecipeBenchmark.Run(
            args[1],
            args.Length > 2 ? args[2] : "fashion-mnist",
            args.Skip(3).ToArray()
        );
    case "twin-recipe" when args.Length > 3:
        return TwinRecipeBenchmark.Run(
            args[1],
            args[2],
            args[3],
            args.Length > 4 ? args[4] : "fashion-mnist",
            args.Length > 5 ? int.Parse(args[5]) : 1500,
            args.Length > 6 ? int.Parse(args[6]) : 800,
            args.Length > 7 ? args[7..] : ["3x3@1.4/15"]
        );
    case "sample-recipe" when args.Length > 1:
        return SampleRecipeBenchmark.Run(
            args[1],
            args.Length > 2 ? args[2] : "fashion-mnist",
            args.Length > 3 ? int.Parse(args[3]) : 1500,
            args.Length > 4 ? int.Parse(args[4]) : 800,
            args.Length > 5 ? args[5..] : ["2/15"]
        );
    case "link-scores":
        LinkScoreBenchmark.Run(
            args.Length > 1 ? int.Parse(args[1]) : 500,
            args.Length > 2 ? int.Parse(args[2]) : 1000,
            args.Length > 3 ? args[3] : Path.Combine(Path.GetTempPath(), "orleanssynth-bench-audit-cache"),
            args.Length > 4 ? int.Parse(args[4]) : 0
        );
        return 0;
    case "training-precision":
        TrainingPrecisionBenchmark.Run(
            args.Length > 1 ? int.Parse(args[1]) : 100,
            args.Length > 2 ? int.Parse(args[2]) : 3
        );
        return 0;
    case "audit-precision":
        AuditPrecisionBenchmark.Run(
            args.Length > 1 ? int.Parse(args[1]) : 1000,
            args.Length > 2 ? int.Parse(args[2]) : 3
        );
        return 0;
    default:
        Console.Error.WriteLine(
            $"unknown benchmark '{benchmark}'; available: scan, planted, versus-pytorch, cluster-vs-bare <gateway "
                + $"port>, sampler-fidelity, audit-memory-data, heldout-copies, link-scores, audit-precision, "
                + $"classifier-recipe <manifest | real:N>, twin-recipe <teacher> <feature extractor> "
                + $"<re-identification model>, sample-recipe <diffusion checkpoint>"
        );
        return 2;
}
