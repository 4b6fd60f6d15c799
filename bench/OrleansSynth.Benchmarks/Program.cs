using OrleansSynth.Benchmarks;

// dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- scan [synthetic] [real] [dim]
var benchmark = args.FirstOrDefault() ?? "scan";
switch (benchmark)
{
    case "scan":
        ScanBenchmark.Run(
            args.Length > 1 ? int.Parse(args[1]) : 20_000,
            args.Length > 2 ? int.Parse(args[2]) : 60_000,
            args.Length > 3 ? int.Parse(args[3]) : 128);
        return 0;
    default:
        Console.Error.WriteLine($"unknown benchmark '{benchmark}'; available: scan");
        return 2;
}
