using System.Globalization;
using System.Reflection;

namespace L4Rt.Broker;

/// <summary>
/// l4rtd's command line, checked before the host is built. The settings themselves are bound by the configuration
/// command-line provider (<c>--Key value</c>, <c>--Key=value</c>, <c>/Key value</c>, <c>Key=value</c>), which quietly
/// ignores what it cannot use; this check refuses that instead: an unknown key (with the nearest known one as a
/// suggestion), a key without a value, a stray word. <c>--help</c> and <c>--version</c> answer without starting.
/// </summary>
internal static class BrokerCommandLine
{
    /// <summary>The broker ran and stopped cleanly, or help or the version was printed.</summary>
    internal const int ExitOk = 0;

    /// <summary>Start-up failed (a value of the wrong type, a live broker on the socket path, a directory owned by another uid, …).</summary>
    internal const int ExitFailed = 1;

    /// <summary>A usage error: an unknown setting, a setting without a value, a stray word.</summary>
    internal const int ExitUsage = 2;

    /// <summary>Short forms, passed to the configuration provider too.</summary>
    internal static readonly IDictionary<string, string> SwitchMappings = new Dictionary<string, string> { ["--socket"] = nameof(BrokerOptions.SocketPath) };

    /// <summary>Keys the host itself reads besides <see cref="BrokerOptions"/> (any sub-key of Logging).</summary>
    private static readonly string[] s_hostKeys = ["Logging", "Environment"];

    /// <summary>Every option for --help, in order: key as typed, its value, what it does (defaults are read from <see cref="BrokerOptions"/>).</summary>
    private static readonly (string Key, string Value, string Help)[] s_options =
    [
        (nameof(BrokerOptions.SocketPath), "PATH", "the control socket, also --socket PATH (default: $L4RT_SOCKET, $XDG_RUNTIME_DIR/l4rt/broker.sock, /tmp/l4rt-$UID/broker.sock)"),
        (nameof(BrokerOptions.AllowedUids) + ":N", "UID", "the uids that may connect, N = 0, 1, … (default: only the broker's own uid)"),
        (nameof(BrokerOptions.OperatorUids) + ":N", "UID", "the uids whose tasks see the whole broker in status (default: only the broker's own uid)"),
        (nameof(BrokerOptions.TaskQuotaBytes), "BYTES", "byte quota of each task's root factory"),
        (nameof(BrokerOptions.TaskQuotaObjects), "N", "object quota of each task's root factory"),
        (nameof(BrokerOptions.TaskQuotaFds), "N", "descriptors each task may make the broker hold"),
        (nameof(BrokerOptions.MaxTasks), "N", "the most tasks connected at once"),
        (nameof(BrokerOptions.MaxPendingConnections), "N", "the most connections at once that have not sent Hello"),
        (nameof(BrokerOptions.HelloTimeout), "HH:MM:SS", "how long a new connection has to send Hello"),
        (nameof(BrokerOptions.ReservedFds), "N", "descriptors kept free for the broker's own work"),
        (nameof(BrokerOptions.AckTimeout), "HH:MM:SS", "how long a receiving task has to acknowledge a new link or IRQ"),
        (nameof(BrokerOptions.ParentPid), "PID", "shut down cleanly when that process exits (harnesses, tests)"),
        (nameof(BrokerOptions.Faults) + ":Kernel:N", "OPCODE", "tests only: that request fails inside the kernel (also Faults:Session:N, Faults:AcceptEmfile)"),
        ("Logging:LogLevel:Default", "LEVEL", "Trace, Debug, Information, Warning, Error, Critical or None (also per category)"),
    ];

    /// <summary>
    /// Checks <paramref name="args"/>: null when the broker should start; otherwise the exit code and in
    /// <paramref name="text"/> what to print: help or the version (stdout, exit 0) or one error line (stderr).
    /// </summary>
    /// <remarks>
    /// It writes nothing itself: the console's descriptors must not be opened before the broker counts what it holds
    /// at start (its descriptor budget).
    /// </remarks>
    internal static int? Check(string[] args, out string text)
    {
        text = "";
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "-?" or "--help" or "/?" or "/h" or "/help")
            {
                text = Help();
                return ExitOk;
            }

            if (arg is "--version")
            {
                text = $"l4rtd {typeof(BrokerCommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion}\n";
                return ExitOk;
            }

            string? problem = CheckOne(args, ref i);
            if (problem is not null)
            {
                text = $"l4rtd: {problem} (l4rtd --help lists the settings)\n";
                return ExitUsage;
            }
        }

        return null;
    }

    /// <summary>The help text (every <see cref="BrokerOptions"/> setting, its default, the exit codes).</summary>
    internal static string Help()
    {
        BrokerOptions defaults = new();
        List<(string Left, string Right)> rows = [];
        foreach ((string key, string value, string help) in s_options)
        {
            PropertyInfo? property = typeof(BrokerOptions).GetProperty(key.Split(':')[0]);
            string? shown = property is null ? null : Format(property.GetValue(defaults));
            rows.Add(($"--{key} {value}", shown is null ? help : $"{help} [default: {shown}]"));
        }

        rows.Add(("-h, --help", "this help"));
        rows.Add(("--version", "the version"));
        int width = rows.Max(r => r.Left.Length) + 2;
        System.Text.StringBuilder text = new();
        text.AppendLine("l4rtd — the L4Rt broker: the kernel of L4-style IPC between Linux processes (tasks, capabilities,");
        text.AppendLine("factories with quotas, gates, IRQs, channels, the name service).");
        text.AppendLine();
        text.AppendLine("Usage: l4rtd [--Setting value | --Setting=value]...");
        text.AppendLine();
        text.AppendLine("Settings come from appsettings.json next to the binary, then L4RT_* environment variables");
        text.AppendLine("(L4RT_TaskQuotaBytes=…, L4RT_AllowedUids__0=…), then the command line; the last one wins. Names are");
        text.AppendLine("case-insensitive. Under systemd (Type=notify) it reports readiness; SIGTERM or Ctrl-C stops it cleanly.");
        text.AppendLine();
        text.AppendLine("Settings:");
        foreach ((string left, string right) in rows)
        {
            text.Append("  ").Append(left.PadRight(width)).AppendLine(right);
        }

        text.AppendLine();
        text.AppendLine("Exit codes:");
        text.AppendLine($"  {ExitOk}  stopped cleanly (SIGTERM, Ctrl-C, the --ParentPid process exited), or help or version printed");
        text.AppendLine($"  {ExitFailed}  start-up failed, one 'l4rtd: …' line on stderr (a value of the wrong type, a live broker on the");
        text.AppendLine("     socket path, a directory or socket owned by another uid, …)");
        text.AppendLine($"  {ExitUsage}  usage error: an unknown setting, a setting without a value, a stray word");
        return text.ToString();
    }

    private static string? CheckOne(string[] args, ref int i)
    {
        string arg = args[i];
        string key;
        bool dashed = arg.StartsWith("--", StringComparison.Ordinal) || arg.StartsWith('/');
        if (dashed)
        {
            key = arg[(arg[0] == '/' ? 1 : 2)..];
        }
        else if (arg.StartsWith('-'))
        {
            return $"unknown option '{arg}'; settings take two dashes, e.g. --SocketPath PATH";
        }
        else if (arg.Contains('=', StringComparison.Ordinal))
        {
            key = arg;
        }
        else
        {
            return $"unexpected argument '{arg}'; settings are given as --Setting value";
        }

        int equals = key.IndexOf('=', StringComparison.Ordinal);
        bool hasValue = equals >= 0;
        key = hasValue ? key[..equals] : key;
        if (dashed && SwitchMappings.TryGetValue("--" + key, out string? mapped))
        {
            key = mapped; // as the provider maps it: "/socket" and "--socket=PATH" too
        }

        if (key.Length == 0)
        {
            return $"'{arg}' names no setting";
        }

        if (!IsKnown(key))
        {
            string? nearest = Nearest(key);
            return nearest is null ? $"unknown setting '--{key}'" : $"unknown setting '--{key}'; did you mean '--{nearest}'?";
        }

        if (!hasValue)
        {
            if (i + 1 >= args.Length)
            {
                return $"'{arg}' needs a value";
            }

            i++;
        }

        return null;
    }

    private static bool IsKnown(string key)
    {
        string[] segments = key.Split(':');
        if (Array.Exists(s_hostKeys, k => string.Equals(k, segments[0], StringComparison.OrdinalIgnoreCase)))
        {
            return segments[0].Equals("Logging", StringComparison.OrdinalIgnoreCase) || segments.Length == 1;
        }

        Type type = typeof(BrokerOptions);
        foreach (string segment in segments)
        {
            if (type.IsArray)
            {
                if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    return false;
                }

                type = type.GetElementType()!;
                continue;
            }

            PropertyInfo? property = IsScalar(type) ? null : type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                return false;
            }

            type = property.PropertyType;
        }

        return true;
    }

    private static bool IsScalar(Type type) => type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan) || type == typeof(decimal);

    /// <summary>The known setting closest to <paramref name="key"/> (at most a third of its letters off), if any.</summary>
    private static string? Nearest(string key)
    {
        List<string> known = [.. s_hostKeys, .. SettingNames(typeof(BrokerOptions), "")];
        string? best = null;
        int bestDistance = Math.Max(2, key.Length / 3) + 1;
        foreach (string candidate in known)
        {
            int distance = Distance(key.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        return best;
    }

    private static IEnumerable<string> SettingNames(Type type, string prefix)
    {
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            Type t = property.PropertyType;
            if (IsScalar(t) || t.IsArray)
            {
                yield return prefix + property.Name;
            }
            else
            {
                foreach (string nested in SettingNames(t, $"{prefix}{property.Name}:"))
                {
                    yield return nested;
                }
            }
        }
    }

    private static int Distance(string a, string b)
    {
        int[] previous = new int[b.Length + 1];
        int[] current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>A default worth showing; null for those the help text describes (empty, or not a plain value).</summary>
    private static string? Format(object? value) => value switch
    {
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => null,
    };
}
