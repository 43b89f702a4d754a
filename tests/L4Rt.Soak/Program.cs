using System.Globalization;
using L4Rt.Soak;

// The L4Rt soak: one bounded run of churn against one real broker — tasks connect, create, call, stream, map and die
// (half of them SIGKILLed mid-work) — sampling the broker's RSS, descriptors, mapped regions and the p99 of calls by a
// steady client every few seconds; it reports the drift and fails (exit 1) on growth beyond noise.
//   dotnet run -c Release --project tests/L4Rt.Soak -- [--seconds 600] [--workers 4] [--sample-seconds 3] [--out DIR]
// Worker mode (the soak starts itself as the churning processes): L4Rt.Soak worker SOCKET SEED
if (args.Length > 0 && args[0] == "worker")
{
    return await ChurnWorker.RunAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
}

if (args.Length > 2 && args[0] == "reliability")
{
    return ReliabilityReport.Write(args[1], args[2]); // L4Rt.Soak reliability DIR docs/reliability.md
}

if (args.Length > 0 && args[0] == "echo")
{
    return await ChurnWorker.EchoAsync(args[1]);
}

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        L4Rt soak: bounded churn against one broker, sampling its RSS, descriptors, regions and call p99; fails on drift.
        usage: L4Rt.Soak [--seconds N] [--workers N] [--sample-seconds N] [--out DIR]
          --seconds N         how long the churn runs (default 600)
          --workers N         churning processes alive at once (default 4)
          --sample-seconds N  how often the broker is sampled (default 3)
          --out DIR           where soak.json and soak.md go (default: printed only)
        """);
    return 0;
}

SoakOptions options = new(
    TimeSpan.FromSeconds(Arg("--seconds", 600)),
    (int)Arg("--workers", 4),
    TimeSpan.FromSeconds(Arg("--sample-seconds", 3)),
    ArgText("--out"));
return await SoakRun.RunAsync(options);

double Arg(string name, double fallback) => ArgText(name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? ArgText(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}
