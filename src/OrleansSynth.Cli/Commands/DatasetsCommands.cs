using System.CommandLine;
using OrleansSynth.Abstractions;
using OrleansSynth.Cli.Client;
using OrleansSynth.Cli.Connection;

namespace OrleansSynth.Cli.Commands;

/// <summary><c>synth datasets ...</c>: datasets the silos read, registered by name or path with their content
/// hash.</summary>
internal static class DatasetsCommands
{
    public static Command Create()
    {
        var path = new Argument<string>("DATASET")
        {
            Description =
                "A dataset name (fashion-mnist) or a path the silos can read (IDX folder, .npz, CSV manifest).",
        };
        var register = new Command(
            "register",
            "Register a dataset the silos can read: they load it, hash its content and refuse it later if it changed."
        )
        {
            path,
        };
        register.SetAction(
            (parse, cancellationToken) =>
                CliErrors.Run(async () =>
                {
                    await using var cluster = await ClientOptions.ConnectAsync(parse, cancellationToken);
                    var info = await cluster.Grains.GetGrain<IDatasetGrain>(parse.GetValue(path)!).Register();
                    if (parse.GetValue(ClientOptions.Json))
                        JsonOutput.Write(info);
                    else
                        Console.WriteLine(
                            $"{parse.GetValue(path)}: {info.TrainCount} train / {info.TestCount} test records, "
                                + $"{info.NumClasses} classes, content {info.ContentHash}"
                        );
                    return CliErrors.Done;
                })
        );
        var show = new Command(
            "show",
            "A registered dataset's counts and content hash, after the silos checked it is unchanged."
        )
        {
            path,
        };
        show.SetAction(
            (parse, cancellationToken) =>
                CliErrors.Run(async () =>
                {
                    await using var cluster = await ClientOptions.ConnectAsync(parse, cancellationToken);
                    var grain = cluster.Grains.GetGrain<IDatasetGrain>(parse.GetValue(path)!);
                    if (await grain.GetInfo() is null)
                        throw new ArgumentException($"dataset '{parse.GetValue(path)}' is not registered.");
                    var info = await grain.Verify();
                    if (parse.GetValue(ClientOptions.Json))
                        JsonOutput.Write(info);
                    else
                        Console.WriteLine(
                            $"{parse.GetValue(path)}: {info.TrainCount} train / {info.TestCount} test records, "
                                + $"{info.NumClasses} classes, content {info.ContentHash} (verified)"
                        );
                    return CliErrors.Done;
                })
        );
        var file = new Argument<string>("FILE")
        {
            Description = "A dataset archive on this machine (.npz, MedMNIST-style).",
        };
        var upload = new Command(
            "upload",
            "Upload a local .npz dataset through the cluster into its artifact store, then register it; prints its "
                + "source."
        )
        {
            file,
        };
        upload.SetAction(
            (parse, cancellationToken) =>
                CliErrors.Run(async () =>
                {
                    var local = Path.GetFullPath(parse.GetValue(file)!);
                    if (!File.Exists(local))
                        throw new FileNotFoundException($"{local}: no such file.");
                    // One file only: an IDX folder or a CSV manifest with its images is registered where the silos can
                    // read it.
                    if (!local.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
                        throw new ArgumentException(
                            $"{local}: upload takes one .npz archive; for an IDX folder or a CSV manifest use "
                                + $"`synth datasets register` with a path the silos see."
                        );
                    await using var cluster = await ClientOptions.ConnectAsync(parse, cancellationToken);
                    var sha = Convert.ToHexStringLower(
                        await System.Security.Cryptography.SHA256.HashDataAsync(File.OpenRead(local), cancellationToken)
                    );
                    var uploadGrain = cluster.Grains.GetGrain<IDatasetUploadGrain>($"{sha}-{Guid.NewGuid():N}");
                    await using (var stream = File.OpenRead(local))
                    {
                        var buffer = new byte[ReleaseManifest.MaxChunk];
                        for (long offset = 0; ; )
                        {
                            var read = await stream.ReadAtLeastAsync(
                                buffer,
                                buffer.Length,
                                throwOnEndOfStream: false,
                                cancellationToken
                            );
                            if (read == 0)
                                break;
                            await uploadGrain.Append(offset, buffer[..read]);
                            offset += read;
                        }
                    }
                    var source = await uploadGrain.Complete(sha, Path.GetFileName(local));
                    var info = await cluster.Grains.GetGrain<IDatasetGrain>(source).Register();
                    if (parse.GetValue(ClientOptions.Json))
                        JsonOutput.Write(info);
                    else
                        Console.WriteLine(
                            $"{source}: {info.TrainCount} train / {info.TestCount} test records, {info.NumClasses} "
                                + $"classes, content {info.ContentHash}"
                        );
                    return CliErrors.Done;
                })
        );
        var list = new Command("list", "The datasets registered on the cluster, with their counts and content hashes.");
        list.SetAction(
            (parse, cancellationToken) =>
                CliErrors.Run(async () =>
                {
                    await using var cluster = await ClientOptions.ConnectAsync(parse, cancellationToken);
                    var datasets = await cluster.Grains.GetGrain<IDatasetListGrain>(IDatasetListGrain.Key).List();
                    if (parse.GetValue(ClientOptions.Json))
                        JsonOutput.Write(datasets);
                    else
                        foreach (var d in datasets)
                            Console.WriteLine(
                                $"{d.Source}: {d.Format}, {d.TrainCount} train / {d.TestCount} test, {d.NumClasses} "
                                    + $"classes, content {d.ContentHash}, registered {d.RegisteredAt:u}"
                            );
                    return CliErrors.Done;
                })
        );
        return new Command("datasets", "Register, upload, list and check the real datasets the silos read.")
        {
            register,
            upload,
            list,
            show,
        };
    }
}
