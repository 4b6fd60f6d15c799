namespace OrleansSynth.ML.Evaluation;

/// <summary>
/// How well images follow their prompts (<see cref="PromptReader"/>): the mean share of an image's nearest real
/// training images whose reports hold each word of its prompt (<see cref="Own"/>), and the same for prompts drawn from
/// the reports of its label (<see cref="SameLabel"/>). An image that follows its label and nothing more of its prompt
/// scores the same on both; the lift is what the rest of the prompt adds. Shares are rounded to 0.1 points: the
/// measure is an aggregate, and names no record and no word.
/// </summary>
/// <param name="Scored">Images whose prompt holds at least one shared word.</param>
/// <param name="Neighbours">The real training images each image is read through.</param>
public sealed record PromptAgreement(int Scored, int Neighbours, double Own, double SameLabel)
{
    public double Lift => Math.Round(Own - SameLabel, 3);
}
