using System.Globalization;
using System.Text.Json;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Faults;

/// <summary>
/// What the broker holds, as the crash matrix compares it with its baseline: counts from its status (operator view)
/// and from /proc (descriptors, mappings of its memfd regions, all mappings, resident set). RSS and the mapping total are compared
/// within a tolerance (the GC maps and returns heap as it likes); everything else must match exactly.
/// </summary>
public sealed record BrokerSnapshot(
    int Tasks,
    int Capabilities,
    int SendLinks,
    int ReceivedFlexpages,
    int Threads,
    int Gates,
    int Links,
    int Irqs,
    int Channels,
    int Dataspaces,
    int DataspaceMappings,
    int Factories,
    long UsedBytes,
    int UsedObjects,
    int Names,
    int PendingNameQueries,
    int Fds,
    int RegionMappings,
    int Mappings,
    long RssKiB)
{
    /// <summary>Mappings the broker's runtime may add or drop on its own (GC heap, thread stacks).</summary>
    public const int MappingTolerance = 24;

    /// <summary>RSS growth accepted as noise (the GC keeps what it grew into for a while).</summary>
    public const long RssToleranceKiB = 32 * 1024;

    public static async Task<BrokerSnapshot> TakeAsync(BrokerProcess broker, L4Task observer)
    {
        using JsonDocument status = JsonDocument.Parse(await observer.GetBrokerStatusJsonAsync());
        JsonElement root = status.RootElement;
        int Count(string name) => root.GetProperty(name).GetArrayLength();
        int Sum(string array, string property) => root.GetProperty(array).EnumerateArray().Sum(e => e.GetProperty(property).GetInt32());
        long usedBytes = 0;
        int usedObjects = 0;
        foreach (JsonElement task in root.GetProperty("tasks").EnumerateArray())
        {
            usedBytes += task.GetProperty("quota").GetProperty("usedBytes").GetInt64();
            usedObjects += task.GetProperty("quota").GetProperty("usedObjects").GetInt32();
        }

        string[] maps = File.ReadAllLines($"/proc/{broker.Pid}/maps");
        long rss = 0;
        foreach (string line in File.ReadLines($"/proc/{broker.Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        return new(
            Count("tasks"),
            Sum("tasks", "capabilities"),
            Sum("tasks", "sendLinks"),
            Sum("tasks", "receivedFlexpages"),
            Count("threads"),
            Count("gates"),
            Sum("gates", "links"),
            Count("irqs"),
            Count("channels"),
            Count("dataspaces"),
            Sum("dataspaces", "mappings"),
            Count("factories"),
            usedBytes,
            usedObjects,
            Count("names"),
            root.GetProperty("broker").GetProperty("pendingNameQueries").GetInt32(),
            broker.OpenFds,
            maps.Count(IsL4RtRegion),
            maps.Length,
            rss);
    }

    /// <summary>A mapping of a memfd the broker made (a region), not one of the runtime's own (the JIT's double mapping, the diagnostics IPC).</summary>
    private static bool IsL4RtRegion(string mapsLine) =>
        mapsLine.Contains("/memfd:", StringComparison.Ordinal)
        && !mapsLine.Contains("/memfd:doublemapper", StringComparison.Ordinal)
        && !mapsLine.Contains("/memfd:dotnet", StringComparison.Ordinal);

    /// <summary>The broker's memfd mappings by name, with counts (for failure messages).</summary>
    public static string DescribeMemfdMappings(BrokerProcess broker) =>
        string.Join(", ", File.ReadAllLines($"/proc/{broker.Pid}/maps")
            .Where(l => l.Contains("/memfd:", StringComparison.Ordinal))
            .GroupBy(l => l[l.IndexOf("/memfd:", StringComparison.Ordinal)..])
            .Select(g => $"{g.Key} ×{g.Count()}"));

    /// <summary>Whether this snapshot is back at <paramref name="baseline"/>: exact counts equal, mappings and RSS within noise.</summary>
    public bool IsAt(BrokerSnapshot baseline) =>
        this with { Mappings = 0, RssKiB = 0 } == baseline with { Mappings = 0, RssKiB = 0 }
        && Mappings <= baseline.Mappings + MappingTolerance
        && RssKiB <= baseline.RssKiB + RssToleranceKiB;
}
