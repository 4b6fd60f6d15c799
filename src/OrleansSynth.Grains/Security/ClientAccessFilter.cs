using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Security;

/// <summary>
/// The cluster's one check on client calls: every call from a client must carry a credential the cluster trusts, and
/// may reach only methods marked <see cref="ClientCallAttribute"/> with a role at least the method's. Grain-to-grain
/// calls (and a silo's own calls) pass: they are the cluster's code.
/// </summary>
public sealed partial class ClientAccessFilter(
    ClientAuthenticator authenticator,
    IOptions<ClientAuthenticationOptions> options,
    ILogger<ClientAccessFilter> logger
) : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, ClientRole?> RequiredRoles = new();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (!IsExternalClient(context.SourceId) || IsClientRuntimeCall(context))
        {
            await context.Invoke();
            return;
        }
        var method = $"{context.InterfaceName}.{context.MethodName}";
        Principal principal;
        try
        {
            principal = authenticator.Authenticate();
        }
        catch (AccessRefusedException refused)
        {
            LogRefused("unauthenticated client", method, refused.Message);
            throw;
        }
        var required = RequiredRoles.GetOrAdd(context.InterfaceMethod, Required);
        // Orleans' management grain (hosts, activations): operators' tooling, never a submitter's.
        if (required is null && context.InterfaceMethod.DeclaringType == typeof(IManagementGrain))
            required = ClientRole.Operator;
        if (required is null)
            Refuse(principal, method, $"{method} is for the cluster's silos only");
        if (principal.Role < required)
            Refuse(principal, method, $"{method} needs the {required.ToString()!.ToLowerInvariant()} role");
        // What the grain reads (CallerPrincipal): the verified principal, never what the client claimed.
        RequestContext.Set(CallerPrincipal.Key, principal);
        RequestContext.Remove(ClientCredential.TokenKey);
        RequestContext.Remove(ClientCredential.CertificateKey);
        RequestContext.Remove(ClientCredential.SignatureKey);
        RequestContext.Remove(ClientCredential.IssuedAtKey);
        await context.Invoke();
    }

    /// <summary>A client outside the silos: not a grain, and not a silo's own hosted client.</summary>
    private static bool IsExternalClient(GrainId? source) =>
        source is { } id && id.IsClient() && !id.Key.ToString().StartsWith("hosted-", StringComparison.Ordinal);

    /// <summary>
    /// What the Orleans client runtime itself calls: the cluster's type manifest (a client cannot start without it) and
    /// the open interfaces (the cancellation of its own pending calls). None reaches the cluster's grains or data.
    /// </summary>
    private bool IsClientRuntimeCall(IIncomingGrainCallContext context) =>
        context.TargetId.Type.ToString() == "sys.svc.manifest"
        || options.Value.OpenInterfaces.Contains(context.InterfaceMethod.DeclaringType?.FullName ?? "");

    private static ClientRole? Required(MethodInfo method) => method.GetCustomAttribute<ClientCallAttribute>()?.Role;

    private void Refuse(Principal principal, string method, string reason)
    {
        LogRefused(principal.ToString(), method, reason);
        throw new AccessRefusedException($"refused: {reason}; you are {principal}.");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client call refused: {Principal} called {Method} ({Reason})")]
    private partial void LogRefused(string principal, string method, string reason);
}
