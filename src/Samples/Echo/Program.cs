using System.Diagnostics;
using System.Globalization;
using L4Rt;
using L4Rt.Hosting;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Samples.Echo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The Echo sample: "server" is a Generic Host worker serving the contract IEcho under the gate "echo/increment" through
// the hosting integration (generated EchoHandler); "client" finds the name, calls it through the generated EchoClient,
// checks every reply and prints the round-trip percentiles.
// The broker's socket: --L4Rt:SocketPath=PATH (server), --socket PATH (client), else $L4RT_SOCKET / the default.
const string Name = "echo/increment";

string mode = args.Length > 0 ? args[0] : "";
return mode switch
{
    "server" => await Server(args[1..]),
    "client" => await Client(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Echo server [--L4Rt:SocketPath=PATH]");
    Console.Error.WriteLine("       Echo client [--socket PATH] [--calls N]");
    return 2;
}

static async Task<int> Server(string[] args)
{
    HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
    builder.Services.AddL4Rt(builder.Configuration.GetSection("L4Rt"));
    builder.Services.AddEchoServer<IncrementService>(Name, o => o.Label = 1);
    await builder.Build().RunAsync();
    return 0;
}

static async Task<int> Client(string[] args)
{
    string? socket = Option(args, "--socket");
    int calls = int.Parse(Option(args, "--calls") ?? "20000", CultureInfo.InvariantCulture);
    const int words = EchoWords.Length;
    L4TaskOptions options = new() { Name = "echo-client", ConnectTimeout = TimeSpan.FromSeconds(10) };
    if (socket is not null)
    {
        options.SocketPath = socket;
    }

    await using L4Task task = await L4Task.ConnectAsync(options);
    Gate gate = await task.Names.QueryAsync<Gate>(Name, TimeSpan.FromSeconds(10));
    using L4Thread me = new();
    EchoClient echo = new(me, gate, L4Timeout.FromMilliseconds(5000));
    long[] rtt = new long[calls];
    EchoWords message = default;
    for (int i = -Math.Min(calls, 1000); i < calls; i++) // the first thousand warm up (link setup, JIT) and are not counted
    {
        for (int w = 0; w < words; w++)
        {
            message[w] = (ulong)(i + w);
        }

        long start = Stopwatch.GetTimestamp();
        L4Status status = echo.TryIncrement(message, out EchoWords reply);
        long end = Stopwatch.GetTimestamp();
        if (status != L4Status.Ok || !Checked(message, reply))
        {
            Console.Error.WriteLine($"call {i}: {status}, word 0 {reply[0]} (expected {i + 1})");
            return 1;
        }

        if (i >= 0)
        {
            rtt[i] = end - start;
        }
    }

    Array.Sort(rtt);
    double Us(double q) => Stopwatch.GetElapsedTime(0, rtt[Math.Min(rtt.Length - 1, (int)(q * rtt.Length))]).TotalMicroseconds;
    double total = Stopwatch.GetElapsedTime(0, rtt.Sum()).TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{calls} calls of {words} words, every reply checked: p50 {Us(0.50):0.00} µs, p90 {Us(0.90):0.00} µs, p99 {Us(0.99):0.00} µs, max {Us(1.0):0.00} µs, {calls / total:0} calls/s"));

    // A capability item: the gate itself, sent to the server, which says what rights it received on it.
    L4Status sent = echo.TryRightsOf(gate, out ulong rights);
    if (sent == L4Status.NoReceiveBuffer)
    {
        // The server's side takes no items here (its thread has no receive slot for a capability on this path).
        Console.WriteLine("capability item: not carried on this path (NoReceiveBuffer: the receiving side made no room for it)");
        return 0;
    }

    if (sent != L4Status.Ok)
    {
        Console.Error.WriteLine($"capability item: {sent}");
        return 1;
    }

    Console.WriteLine($"capability item: the server received this gate with rights {(L4Rt.Protocol.CapRights)rights} (this task holds {gate.Rights})");
    return 0;
}

static bool Checked(in EchoWords sent, in EchoWords reply)
{
    if (reply[0] != sent[0] + 1)
    {
        return false;
    }

    for (int w = 1; w < EchoWords.Length; w++)
    {
        if (reply[w] != sent[w])
        {
            return false;
        }
    }

    return true;
}

static string? Option(string[] args, string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
