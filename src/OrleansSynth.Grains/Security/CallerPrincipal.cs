using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Security;

/// <summary>
/// The principal of the client call being served, as <see cref="ClientAccessFilter"/> verified it; it flows on to the
/// grain calls that call makes. Null in work no client started (a reminder's, a timer's).
/// </summary>
public static class CallerPrincipal
{
    // Set only by the filter, which overwrites whatever a client put under this key.
    internal const string Key = "orleanssynth.principal";

    public static Principal? Current => RequestContext.Get(Key) as Principal;

    /// <summary>Refuses a client that neither owns <paramref name="what"/> nor holds the operator role.</summary>
    /// <param name="owner">
    /// The principal name that owns it; null for work that predates owners (operators only).
    /// </param>
    public static void DemandOwnerOrOperator(string? owner, string what)
    {
        if (MaySee(owner))
            return;
        throw new AccessRefusedException($"{what} belongs to another principal; {Current} may read only its own runs.");
    }

    /// <summary>Whether the current caller may see work owned by <paramref name="owner"/>.</summary>
    public static bool MaySee(string? owner) =>
        Current is not { } caller || caller.Role == ClientRole.Operator || (owner is not null && caller.Name == owner);
}
