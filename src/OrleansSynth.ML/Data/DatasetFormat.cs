namespace OrleansSynth.ML.Data;

public enum DatasetFormat
{
    /// <summary>A folder of MNIST-style IDX files.</summary>
    Idx,

    /// <summary>A MedMNIST-style .npz archive.</summary>
    Npz,

    /// <summary>A CSV manifest beside an image folder.</summary>
    ImageFolder,

    /// <summary>A folder of DICOM files, with its labels and reading options in dataset.yaml.</summary>
    Dicom,
}
