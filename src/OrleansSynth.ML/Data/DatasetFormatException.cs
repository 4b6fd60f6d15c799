namespace OrleansSynth.ML.Data;

/// <summary>A dataset file is missing, truncated or not what it claims to be. The message names the file.</summary>
public sealed class DatasetFormatException : Exception
{
    public DatasetFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
    }

    public string Path { get; }
}
