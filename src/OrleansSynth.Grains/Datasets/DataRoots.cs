using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;
using OrleansSynth.ML.Data;

namespace OrleansSynth.Grains.Datasets;

/// <summary>
/// Keeps dataset sources inside the cluster's configured data roots: a run spec names its dataset, and without this
/// any client could have the silos read (and audit, and train on) any file they can reach.
/// </summary>
public sealed class DataRoots(IOptions<DatasetOptions> options)
{
    /// <exception cref="DatasetRefusedException">The source lies outside every root (links followed).</exception>
    public void Demand(string source, string what)
    {
        if (DatasetCatalog.KnownNames.ContainsKey(source))
            return;
        var roots = options.Value.Roots.Select(Folder).ToList();
        if (Inside(Path.GetFullPath(source), roots) && Inside(Resolved(source), roots))
            return;
        throw new DatasetRefusedException(
            roots.Count == 0
                ? $"{what} refused: this cluster has no data roots configured (OrleansSynth:DataRoots); "
                    + "upload the dataset instead."
                : $"{what} refused: it is outside the cluster's data roots; "
                    + "an operator may add a root (OrleansSynth:DataRoots)."
        );
    }

    private static string Folder(string root) =>
        Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar;

    private static bool Inside(string path, List<string> roots) =>
        roots.Any(root =>
            (Path.TrimEndingDirectorySeparator(path) + Path.DirectorySeparatorChar).StartsWith(
                root,
                StringComparison.Ordinal
            )
        );

    /// <summary>The path with every link on it followed: a link inside a root may point anywhere.</summary>
    private static string Resolved(string source)
    {
        var full = Path.GetFullPath(source);
        FileSystemInfo info = Directory.Exists(full) ? new DirectoryInfo(full) : new FileInfo(full);
        var target = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        // A parent folder may itself be a link.
        var parent = Path.GetDirectoryName(target);
        if (parent is null)
            return target;
        var realParent = new DirectoryInfo(parent).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? parent;
        return Path.Combine(realParent, Path.GetFileName(target));
    }
}
