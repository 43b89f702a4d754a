using L4Rt.Protocol;

namespace L4Rt.Hosting;

/// <summary>
/// How the host's task reaches the broker (bind it from configuration, e.g. the "L4Rt" section). Validated when
/// the host starts: a bad value stops the start with an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>.
/// </summary>
public sealed class L4RtOptions
{
    /// <summary>The broker's socket; by default the one <c>l4rtd</c> uses (<c>$L4RT_SOCKET</c>, else the per-user runtime directory).</summary>
    public string SocketPath { get; set; } = BrokerEndpoint.DefaultSocketPath();

    /// <summary>The task's name in the broker's status (default: the process name).</summary>
    public string Name { get; set; } = Environment.ProcessPath is { } p ? Path.GetFileNameWithoutExtension(p) : "task";

    /// <summary>The first pause between connection attempts while no broker runs (default 100 ms); it doubles up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest pause between connection attempts (default 5 s).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the host's start may wait for a broker before it fails (default: until the host's start is cancelled).</summary>
    public TimeSpan? ConnectTimeout { get; set; }

    internal IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(SocketPath))
        {
            yield return "L4Rt:SocketPath is empty";
        }

        if (string.IsNullOrWhiteSpace(Name))
        {
            yield return "L4Rt:Name is empty";
        }

        if (RetryDelay <= TimeSpan.Zero || MaxRetryDelay < RetryDelay)
        {
            yield return $"L4Rt:RetryDelay ({RetryDelay}) must be positive and at most L4Rt:MaxRetryDelay ({MaxRetryDelay})";
        }

        if (ConnectTimeout is { } timeout && timeout < TimeSpan.Zero)
        {
            yield return $"L4Rt:ConnectTimeout ({timeout}) cannot be negative";
        }
    }
}
