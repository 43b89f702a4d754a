using System.Globalization;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;

namespace L4Rt.TestChild;

/// <summary>Modes of the paged-dataspace tests: a pager, and a reader that touches the pages.</summary>
internal static partial class Program
{
    /// <summary>The pager id the test pager gives its dataspaces (sent back in every fault).</summary>
    private const ulong TestPagerId = 0x5A5A;

    private static int? RunPagingMode(string[] args) => args[0] switch
    {
        "page-pager" => PagePager(args[1], args[2], long.Parse(args[3], CultureInfo.InvariantCulture), args[4], Int(args[5])),
        "page-reader" => PageReader(args[1], args[2], args[3..]),
        "throw-reported" => ThrowReported(args[1], args[2], args[3] == "opt-in"),
        _ => null,
    };

    /// <summary>
    /// Creates a paged dataspace of <paramref name="size"/> bytes served by this process (fault timeout
    /// <paramref name="timeoutMs"/>), registers it as <paramref name="name"/> (read and map rights), prints <c>PAGER ready</c>
    /// and serves faults, printing <c>FAULT offset access id</c> for each before answering as <paramref name="behaviour"/>
    /// says: <c>serve</c> (page i filled by <see cref="Content.FillRecord"/> with index i), <c>wrong-offset</c> (supplies the
    /// page, answers for the next one), <c>oversize</c> (supplies it, answers a length of two pages), <c>lie</c> (answers Ok,
    /// supplies nothing), <c>refuse</c> (answers NoRights), <c>hold</c> (never answers: sleeps), <c>revoke</c> (deletes the
    /// dataspace instead of answering, then sleeps).
    /// </summary>
    private static int PagePager(string socket, string name, long size, string behaviour, int timeoutMs)
    {
        using L4Task task = Join(socket, "pager");
        using L4Thread server = task.CreateThread();
        Gate gate = task.Factory.CreateGateAsync(server, 1).GetAwaiter().GetResult();
        Dataspace dataspace = task.Factory.CreatePagedDataspaceAsync(size, gate, TestPagerId, TimeSpan.FromMilliseconds(timeoutMs)).GetAwaiter().GetResult();
        using PagerBacking backing = dataspace.MapBackingAsync().GetAwaiter().GetResult();
        task.Names.RegisterAsync(name, dataspace, CapRights.Read | CapRights.Map).GetAwaiter().GetResult();
        byte[] page = new byte[PageFault.PageSize];
        Say("PAGER ready");
        IpcResult received = server.Wait(L4Timeout.Never);
        while (true)
        {
            if (!received.IsOk || !PageFault.TryRead(server.Utcb, received.Tag, out PageFault fault) || fault.Offset >= backing.Length)
            {
                Say($"BADMSG {received}");
                received = server.Wait(L4Timeout.Never);
                continue;
            }

            Say($"FAULT {fault.Offset} {(fault.IsWrite ? "w" : "r")} {fault.DataspaceId:x}");
            MsgTag reply;
            switch (behaviour)
            {
                case "hold":
                    Thread.Sleep(Timeout.Infinite);
                    return 0;
                case "revoke":
                    dataspace.DeleteAsync().GetAwaiter().GetResult(); // the creator's original: the dataspace goes, every mapping is revoked
                    Say("REVOKED");
                    Thread.Sleep(Timeout.Infinite);
                    return 0;
                case "refuse":
                    reply = PageFault.Reply(server.Utcb, fault, L4Status.NoRights);
                    break;
                case "lie":
                    reply = PageFault.Reply(server.Utcb, fault, L4Status.Ok);
                    break;
                default:
                    Content.FillRecord(page, fault.Offset / PageFault.PageSize);
                    L4Status placed = backing.Supply(fault.Offset, page);
                    reply = PageFault.Reply(server.Utcb, fault, placed is L4Status.Ok or L4Status.AlreadyExists ? L4Status.Ok : L4Status.Aborted);
                    if (behaviour == "wrong-offset")
                    {
                        server.Utcb.Mr[1] = (ulong)(fault.Offset + PageFault.PageSize);
                    }
                    else if (behaviour == "oversize")
                    {
                        server.Utcb.Mr[2] = 2 * (ulong)PageFault.PageSize;
                    }

                    break;
            }

            received = server.ReplyAndWait(reply, L4Timeout.Never);
        }
    }

    /// <summary>
    /// Maps the paged dataspace <paramref name="name"/> read-only, prints <c>MAPPED length paged</c>, and runs the steps:
    /// <c>read FIRST COUNT</c> touches pages FIRST.. and checks each against <see cref="Content.FillRecord"/>
    /// (<c>READ good bad status served</c>); <c>race PAGE THREADS</c> touches one page from that many threads at once
    /// (<c>RACE same status served</c>); <c>touch PAGE</c> touches one page and prints <c>TOUCHED status first-byte
    /// nonzero monotonic-ns-after</c>; <c>wait-file PATH</c> prints <c>WAITING</c> and goes on once the file exists; <c>touch-dispose PAGE FLAG</c> touches one page on another thread, waits for the
    /// file FLAG, disposes the task and prints <c>DISPOSED joined status byte</c>; <c>alloc FIRST COUNT</c> touches that many fresh pages and prints <c>ALLOC
    /// bytes-per-fault faults status</c>, the bytes allocated by every thread of this process (the fault thread's included).
    /// </summary>
    private static int PageReader(string socket, string name, string[] steps)
    {
        using L4Task task = Join(socket, "page-reader");
        Dataspace dataspace = task.Names.QueryAsync<Dataspace>(name, TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        using DataspaceMapping mapping = dataspace.MapAsync(CapRights.Read).GetAwaiter().GetResult();
        Say($"MAPPED {mapping.Length} {mapping.IsPaged}");
        nint start;
        unsafe
        {
            start = (nint)mapping.Pointer; // taken once: after a teardown the addresses stay (zero pages), the API refuses
        }

        byte[] expected = new byte[PageFault.PageSize];
        for (int i = 0; i < steps.Length; i++)
        {
            switch (steps[i])
            {
                case "read":
                    long first = long.Parse(steps[++i], CultureInfo.InvariantCulture);
                    int count = Int(steps[++i]);
                    int good = 0, bad = 0;
                    for (long p = first; p < first + count; p++)
                    {
                        Content.FillRecord(expected, p);
                        if (Page(start, p).SequenceEqual(expected))
                        {
                            good++;
                        }
                        else
                        {
                            bad++;
                        }
                    }

                    Say($"READ {good} {bad} {mapping.Status} {mapping.FaultsServed}");
                    break;
                case "race":
                    int page = Int(steps[++i]);
                    int threads = Int(steps[++i]);
                    ulong[] seen = new ulong[threads];
                    using (Barrier barrier = new(threads))
                    {
                        Thread[] all = new Thread[threads];
                        for (int t = 0; t < threads; t++)
                        {
                            int index = t;
                            all[t] = new Thread(() =>
                            {
                                barrier.SignalAndWait();
                                seen[index] = System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(Page(start, page));
                            });
                            all[t].Start();
                        }

                        foreach (Thread t in all)
                        {
                            t.Join();
                        }
                    }

                    Content.FillRecord(expected, page);
                    ulong want = System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(expected);
                    Say($"RACE {Array.TrueForAll(seen, v => v == want)} {mapping.Status} {mapping.FaultsServed}");
                    break;
                case "alloc":
                    long from = long.Parse(steps[++i], CultureInfo.InvariantCulture);
                    int faults = Int(steps[++i]);
                    long servedBefore = mapping.FaultsServed;
                    long before = GC.GetTotalAllocatedBytes(precise: true);
                    ulong sum = 0;
                    for (long p = from; p < from + faults; p++)
                    {
                        sum += System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(Page(start, p));
                    }

                    long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
                    GC.KeepAlive(sum);
                    Say(string.Create(CultureInfo.InvariantCulture, $"ALLOC {allocated / (double)faults:0.00} {mapping.FaultsServed - servedBefore} {mapping.Status}"));
                    break;
                case "touch-dispose":
                    int blockedPage = Int(steps[++i]);
                    string flag = steps[++i];
                    byte seenByte = 1;
                    Thread toucher = new(() =>
                    {
                        unsafe
                        {
                            seenByte = *((byte*)start + ((long)blockedPage * PageFault.PageSize)); // blocks: the pager holds
                        }
                    });
                    toucher.Start();
                    SpinUntil(() => File.Exists(flag)); // the test saw the pager receive the fault
                    task.Dispose(); // the task leaves while a thread is blocked on a fault of its mapping
                    bool joined = toucher.Join(TimeSpan.FromSeconds(20));
                    Say($"DISPOSED {joined} {mapping.Status} {seenByte}");
                    break;
                case "wait-file":
                    string goFile = steps[++i];
                    Say("WAITING");
                    while (!File.Exists(goFile))
                    {
                        Thread.Sleep(1);
                    }

                    break;
                case "touch":
                    int at = Int(steps[++i]);
                    byte firstByte;
                    bool nonzero;
                    unsafe
                    {
                        byte* p = (byte*)start + ((long)at * PageFault.PageSize);
                        firstByte = *p; // blocks in the kernel until the fault is served or the mapping torn down
                        nonzero = new ReadOnlySpan<byte>(p, PageFault.PageSize).IndexOfAnyExcept((byte)0) >= 0;
                    }

                    Say($"TOUCHED {mapping.Status} {firstByte} {nonzero} {NowNs()}");
                    break;
                default:
                    throw new ArgumentException($"unknown step {steps[i]}");
            }
        }

        Say("DONE");
        return 0;
    }

    /// <summary>
    /// Finds the exception handler gate <paramref name="name"/>; a thread named "worker-7" opts in (unless
    /// <paramref name="optIn"/> is false), prints <c>THROWING</c> and throws an unhandled InvalidOperationException,
    /// which ends this process.
    /// </summary>
    private static int ThrowReported(string socket, string name, bool optIn)
    {
        L4Task task = Join(socket, "thrower"); // not disposed: the unhandled exception ends the process
        Gate handler = task.Names.QueryAsync<Gate>(name, TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        Thread worker = new(() =>
        {
            if (optIn)
            {
                _ = ExceptionReporting.OptIn(handler, TimeSpan.FromSeconds(10));
            }

            Say("THROWING");
            throw new InvalidOperationException("the worker's disk is on fire: ünïcödé");
        }) { Name = "worker-7" };
        worker.Start();
        worker.Join();
        return 0;
    }

    /// <summary>Page <paramref name="index"/> of a mapping at <paramref name="start"/> (the test's own bounds: the reader only names pages it mapped).</summary>
    private static unsafe ReadOnlySpan<byte> Page(nint start, long index) => new((byte*)start + (index * PageFault.PageSize), PageFault.PageSize);
}
