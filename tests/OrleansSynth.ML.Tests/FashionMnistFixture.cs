using OrleansSynth.ML.Data;

namespace OrleansSynth.ML.Tests;

/// <summary>Real Fashion-MNIST (Debian's dataset-fashion-mnist), loaded once for the whole test assembly.</summary>
public sealed class FashionMnistFixture
{
    public FashionMnistFixture()
    {
        Train = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Train);
        Test = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Test);
    }

    public ImageDataset Train { get; }
    public ImageDataset Test { get; }

    /// <summary>The first <paramref name="perClass"/> training images of every class.</summary>
    public ImageDataset BalancedTrainSubset(int perClass)
    {
        var taken = new int[Train.NumClasses];
        var indices = new List<int>();
        for (var i = 0; i < Train.Count && indices.Count < perClass * Train.NumClasses; i++)
            if (taken[Train.Labels[i]]++ < perClass)
                indices.Add(i);
        return Train.Subset(indices);
    }
}

[CollectionDefinition(Name)]
public sealed class FashionMnistCollection : ICollectionFixture<FashionMnistFixture>
{
    public const string Name = "Fashion-MNIST";
}
