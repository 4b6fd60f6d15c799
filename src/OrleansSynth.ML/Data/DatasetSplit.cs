namespace OrleansSynth.ML.Data;

public enum DatasetSplit
{
    Train,
    Validation,
    Test,
}
