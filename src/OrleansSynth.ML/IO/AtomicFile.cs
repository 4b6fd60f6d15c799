namespace OrleansSynth.ML.IO;

/// <summary>Writes a file under a temporary name and renames it into place, so readers never see half of it.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<BinaryWriter> write)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var writer = new BinaryWriter(File.Create(temporary)))
                write(writer);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }
}
