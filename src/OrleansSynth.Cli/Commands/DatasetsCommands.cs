using System.CommandLine;
using OrleansSynth.Abstractions;
using OrleansSynth.Cli.Client;
using OrleansSynth.Cli.Connection;

namespace OrleansSynth.Cli.Commands;

/// <summary><c>synth datasets ...</c>: datasets the silos read, registered by name or path with their content hash.</summary>
internal static class DatasetsCommands
{
    public static Command Create()
    {
        var path = new Argument<string>("DATASET") { Description = "A dataset name (fashion-mnist) or a path the silos can read (IDX folder, .npz, CSV manifest)." };
        var register = new Command("register", "Register a dataset the silos can read: they load it, hash its content and refuse it later if it changed.") { path };
        register.SetAction((parse, cancellationToken) => CliErrors.Run(async () =>
        {
            await using var cluster = await ClientOptions.ConnectAsync(parse, cancellationToken);
            var info = await cluster.Grains.GetGrain<IDatasetGrain>(parse.GetValue(path)!).Register();
            if (parse.GetValue(ClientOptions.Json)) JsonOutput.Write(info);
            else Console.WriteLine($"{parse.GetValue(path)}: {info.TrainCount} train / {info.TestCount} test records, {info.NumClasses} classes, content {info.ContentHash}");
            return CliErrors.Done;
        }));
        var show = new Command("show", "A registered dataset's counts and content hash, after the silos checked it is unchanged.") { path };
        show.SetAction((parse, cancellationToken) => CliErrors.Run(async () =>
        {
            await using var cluster = await ClientOptions.ConnectAsync(parse, cancellationToken);
            var grain = cluster.Grains.GetGrain<IDatasetGrain>(parse.GetValue(path)!);
            if (await grain.GetInfo() is null) throw new ArgumentException($"dataset '{parse.GetValue(path)}' is not registered.");
            var info = await grain.Verify();
            if (parse.GetValue(ClientOptions.Json)) JsonOutput.Write(info);
            else Console.WriteLine($"{parse.GetValue(path)}: {info.TrainCount} train / {info.TestCount} test records, {info.NumClasses} classes, content {info.ContentHash} (verified)");
            return CliErrors.Done;
        }));
        var list = new Command("list", "The datasets registered on the cluster, with their counts and content hashes.");
        list.SetAction((parse, cancellationToken) => CliErrors.Run(async () =>
        {
            await using var cluster = await ClientOptions.ConnectAsync(parse, cancellationToken);
            var datasets = await cluster.Grains.GetGrain<IDatasetListGrain>(IDatasetListGrain.Key).List();
            if (parse.GetValue(ClientOptions.Json)) JsonOutput.Write(datasets);
            else foreach (var d in datasets) Console.WriteLine($"{d.Source}: {d.Format}, {d.TrainCount} train / {d.TestCount} test, {d.NumClasses} classes, content {d.ContentHash}, registered {d.RegisteredAt:u}");
            return CliErrors.Done;
        }));
        return new Command("datasets", "Register, list and check the real datasets the silos read.") { register, list, show };
    }
}
