namespace OrleansSynth.Abstractions;

/// <summary>What a client may do; each role may do everything the roles below it may.</summary>
public enum ClientRole
{
    /// <summary>Submits runs and reads, watches, retries and exports the shareable release of its own runs.</summary>
    Submitter = 1,

    /// <summary>The data protection role: also approves, cancels, sets policy, registers datasets, audits folders on
    /// the silos and reads internal reports, for every run.</summary>
    Operator = 2,
}
