namespace OrleansSynth.ML.Classification;

/// <summary>Accuracy and macro one-vs-rest ROC AUC on a labelled test set.</summary>
public sealed record ClassifierEvaluation(int Count, double Accuracy, double MacroAuc);
