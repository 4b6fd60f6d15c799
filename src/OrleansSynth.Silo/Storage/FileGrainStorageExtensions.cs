using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace OrleansSynth.Silo.Storage;

public static class FileGrainStorageExtensions
{
    /// <summary>The embedded mode's grain storage: files under <paramref name="root"/>.</summary>
    public static ISiloBuilder AddFileGrainStorage(this ISiloBuilder silo, string name, string root)
    {
        silo.Services.AddOptions<FileGrainStorageOptions>(name).Configure(options => options.Root = root);
        silo.Services.TryAddSingleton<OrleansGrainStorageSerializer>();
        silo.Services.AddKeyedSingleton<IGrainStorage>(name, (sp, key) =>
            new FileGrainStorage(
                sp.GetRequiredService<IOptionsMonitor<FileGrainStorageOptions>>().Get(name),
                sp.GetRequiredService<OrleansGrainStorageSerializer>()
            )
        );
        return silo;
    }
}
