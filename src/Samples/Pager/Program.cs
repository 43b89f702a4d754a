using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using L4Rt;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;

// The Pager sample: page faults as IPC. "pager" creates a paged dataspace — a "virtual file" of --size-mib MiB (1 GiB by
// default) that exists nowhere: each page is computed when a process first touches it — registers it as
// "pager/vfile" and serves the faults. "reader", another process, maps it read-only and reads pages spread over the
// whole file, checks each against the same formula, and prints how many faults the pager served and the time per fault.
// The broker's socket: --socket PATH, else $L4RT_SOCKET / the default.
const string Name = "pager/vfile";

string mode = args.Length > 0 ? args[0] : "";
try
{
    return mode switch
    {
        "pager" => await PagerMode(args[1..]),
        "reader" => await ReaderMode(args[1..]),
        _ => Usage(),
    };
}
catch (FormatException e)
{
    Console.Error.WriteLine($"Pager: {e.Message}");
    return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: Pager pager  [--socket PATH] [--size-mib N]   (N: 1..1024, default 1024)");
    Console.Error.WriteLine("       Pager reader [--socket PATH] [--pages N]      (pages to read, spread over the file; default 20000)");
    return 2;
}

static async Task<int> PagerMode(string[] args)
{
    long sizeMib = long.Parse(Option(args, "--size-mib") ?? "1024", CultureInfo.InvariantCulture);
    if (sizeMib is < 1 or > 1024)
    {
        throw new FormatException("--size-mib is 1 to 1024");
    }

    await using L4Task task = await L4Task.ConnectAsync(Options(args, "vfile-pager"));
    using L4Thread server = await task.CreateThreadAsync();
    Gate gate = await task.Factory.CreateGateAsync(server, label: 1);
    Dataspace file = await task.Factory.CreatePagedDataspaceAsync(sizeMib << 20, gate, pagerId: 1, faultTimeout: TimeSpan.FromSeconds(2));
    using PagerBacking backing = await file.MapBackingAsync();
    await task.Names.RegisterAsync(Name, file, CapRights.Read | CapRights.Map);
    void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        server.Abort(); // ends the serving loop below
    }

    using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
    using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
    Console.WriteLine($"serving '{Name}': a {sizeMib} MiB virtual file, every page computed on first touch (Ctrl-C or SIGTERM stops)");

    long served = Serve(server, backing);
    Console.WriteLine($"served {served} faults");
    return 0;
}

// The pager: an ordinary server loop. A fault names the page; the page is computed, placed, and the reply says so.
static long Serve(L4Thread server, PagerBacking backing)
{
    byte[] page = new byte[PageFault.PageSize];
    long served = 0;
    IpcResult received = server.Wait(L4Timeout.Never);
    while (received.Status is L4Status.Ok or L4Status.ReceiveTimeout)
    {
        if (!received.IsOk || !PageFault.TryRead(server.Utcb, received.Tag, out PageFault fault) || fault.Offset >= backing.Length)
        {
            received = server.Wait(L4Timeout.Never); // not a fault of ours: nothing to answer
            continue;
        }

        VirtualFile.Compute(fault.Offset, page);
        L4Status placed = backing.Supply(fault.Offset, page); // AlreadyExists: another process had it placed first
        served++;
        received = server.ReplyAndWait(PageFault.Reply(server.Utcb, fault, placed is L4Status.Ok or L4Status.AlreadyExists ? L4Status.Ok : L4Status.Aborted), L4Timeout.Never);
    }

    return served;
}

static async Task<int> ReaderMode(string[] args)
{
    int pages = int.Parse(Option(args, "--pages") ?? "20000", CultureInfo.InvariantCulture);
    await using L4Task task = await L4Task.ConnectAsync(Options(args, "vfile-reader"));
    Dataspace file = await task.Names.QueryAsync<Dataspace>(Name, TimeSpan.FromSeconds(10));
    using DataspaceMapping mapping = await file.MapAsync(CapRights.Read);
    long filePages = mapping.Length / PageFault.PageSize;
    if (pages < 1 || pages > filePages)
    {
        throw new FormatException($"--pages is 1 to {filePages} (the file's pages)");
    }

    (double[] us, int bad) = ReadSpread(mapping, pages);
    Array.Sort(us);
    long served = mapping.FaultsServed;
    Console.WriteLine($"read {pages} pages spread over a {mapping.Length >> 20} MiB virtual file: {pages - bad} as computed, {bad} wrong; mapping {mapping.Status}");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"faults served by the pager: {served}; per fault (first touch → page there): median {us[us.Length / 2]:0.0} µs, p99 {us[(int)(us.Length * 0.99)]:0.0} µs"));
    return bad == 0 && mapping.Status == L4Status.Ok ? 0 : 1;
}

// Page i of `pages` is page i * (file pages / pages): the whole file is spread over, yet only `pages` pages ever exist.
static (double[] Us, int Bad) ReadSpread(DataspaceMapping mapping, int pages)
{
    ReadOnlySpan<byte> all = mapping.ReadOnlySpan;
    long stride = mapping.Length / PageFault.PageSize / pages;
    byte[] expected = new byte[PageFault.PageSize];
    double[] us = new double[pages];
    int bad = 0;
    for (int i = 0; i < pages; i++)
    {
        long offset = i * stride * PageFault.PageSize;
        long start = Stopwatch.GetTimestamp();
        byte first = all[(int)offset]; // the first touch: blocks until the pager has placed the page
        us[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        VirtualFile.Compute(offset, expected);
        bad += first == expected[0] && all.Slice((int)offset, PageFault.PageSize).SequenceEqual(expected) ? 0 : 1;
    }

    return (us, bad);
}

static string? Option(string[] args, string name)
{
    int at = Array.IndexOf(args, name);
    return at < 0 ? null : at + 1 < args.Length ? args[at + 1] : throw new FormatException($"{name} needs a value");
}

static L4TaskOptions Options(string[] args, string name) => Option(args, "--socket") is { } socket ? new() { SocketPath = socket, Name = name } : new() { Name = name };

/// <summary>The virtual file's content: each 8-byte word is a hash of its offset, so any page can be computed alone.</summary>
internal static class VirtualFile
{
    internal static void Compute(long offset, Span<byte> page)
    {
        for (int i = 0; i < page.Length; i += sizeof(ulong))
        {
            ulong x = (ulong)(offset + i) * 0x9E3779B97F4A7C15UL;
            BinaryPrimitives.WriteUInt64LittleEndian(page[i..], x ^ (x >> 29));
        }
    }
}
