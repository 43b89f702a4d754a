using System.Globalization;
using System.Text;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;

namespace L4Rt.TestChild;

/// <summary>
/// The victim of the crash matrix (tests/…/Faults/CrashMatrixTests.cs): <c>crash SOCKET ROLE POINT NAME</c> joins the
/// broker, plays ROLE up to POINT (caller × link-setup and cap-holder × item-offer: wait for the file named by a sixth argument first) against the survivor's object registered as NAME, prints <c>READY …</c> (for the
/// points where the victim then blocks, just before it blocks) and stays there until the test SIGKILLs it.
/// </summary>
internal static partial class Program
{
    private static int? RunCrashMode(string[] args) => args[0] == "crash" ? Crash(args[1], args[2], args[3], args[4], args.Length > 5 ? args[5] : null) : null;

    private static int Crash(string socket, string role, string point, string name, string? go)
    {
        if (role == "pager")
        {
            // The pager is the existing test pager: "idle" serves (the test faults one page, then kills it between faults),
            // "mid-call" holds the fault it got (the faulting thread is blocked in the kernel on it).
            return PagePager(socket, name, 16 * PageFault.PageSize, point == "idle" ? "serve" : "hold", 60_000);
        }

        using L4Task task = Join(socket, $"victim-{role}-{point}");
        using L4Thread me = task.CreateThread();
        switch ((role, point))
        {
            case ("caller", "idle"):
                {
                    Gate gate = task.Names.QueryAsync<Gate>(name, s_connectTimeout).GetAwaiter().GetResult();
                    IpcResult r = me.Call(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000));
                    Say($"READY {r.Status}");
                    break;
                }

            case ("caller", "send" or "mid-call" or "mid-reply" or "link-setup"):
                {
                    Gate gate = task.Names.QueryAsync<Gate>(name, s_connectTimeout).GetAwaiter().GetResult();
                    me.Utcb.Mr[0] = 41;
                    Say("READY calling");
                    if (point == "link-setup")
                    {
                        // The test stops the broker, then creates the file: the first call's link request goes to a stopped broker.
                        while (!File.Exists(go))
                        {
                            Thread.Sleep(1);
                        }

                        Say("LINKING");
                    }

                    IpcResult r = me.Call(gate, new MsgTag(1, 1), L4Timeout.Never);
                    Say($"CALL {r.Status} {me.Utcb.Mr[0]}"); // mid-reply: printed only if the test lets it run
                    break;
                }

            case ("receiver", "idle" or "receive" or "mid-call" or "link-setup"):
                {
                    Gate gate = task.Factory.CreateGateAsync(me, 3).GetAwaiter().GetResult();
                    task.Names.RegisterAsync(name, gate).GetAwaiter().GetResult();
                    if (point is "idle" or "link-setup")
                    {
                        Say("READY registered"); // has a gate, never waits (link-setup: the test stops this process)
                        break;
                    }

                    Say("READY waiting");
                    IpcResult r = me.Wait(L4Timeout.Never);
                    if (point == "mid-call" && r.IsOk)
                    {
                        AwaitCallerAsleep(me.ReplyLink!);
                        Say("HOLD");
                    }
                    else
                    {
                        Say($"WAIT {r.Status}");
                    }

                    break;
                }

            case ("irq-holder", "idle"):
                {
                    Irq irq = task.Names.QueryAsync<Irq>(name, s_connectTimeout).GetAwaiter().GetResult();
                    int failed = 0;
                    for (int i = 0; i < 5; i++)
                    {
                        failed += irq.Trigger() == L4Status.Ok ? 0 : 1;
                    }

                    Say($"READY {5 - failed}");
                    break;
                }

            case ("fifo-producer", _):
                {
                    Channel channel = task.Names.QueryAsync<Channel>(name, s_connectTimeout).GetAwaiter().GetResult();
                    ChannelProducer producer = channel.OpenProducerAsync().GetAwaiter().GetResult();
                    int committed = 0;
                    byte[] record = new byte[1000];
                    int records = point == "send" ? int.MaxValue : 10;
                    while (committed < records)
                    {
                        BitConverter.TryWriteBytes(record, committed);
                        if (producer.Write(record, L4Timeout.Zero) != L4Status.Ok)
                        {
                            break; // full
                        }

                        committed++;
                    }

                    if (point == "mid-record")
                    {
                        if (producer.Reserve(record.Length, L4Timeout.Never, out Span<byte> reserved) != L4Status.Ok)
                        {
                            throw new InvalidOperationException("reserve failed");
                        }

                        reserved.Fill(0xEE); // written in place, never committed
                    }

                    Say($"READY {committed}");
                    if (point == "send")
                    {
                        BitConverter.TryWriteBytes(record, committed);
                        Say($"WRITE {producer.Write(record, L4Timeout.Never)}"); // blocks: the ring is full
                    }

                    GC.KeepAlive(producer);
                    break;
                }

            case ("fifo-consumer", _):
                {
                    Channel channel = task.Names.QueryAsync<Channel>(name, s_connectTimeout).GetAwaiter().GetResult();
                    ChannelConsumer consumer = channel.OpenConsumerAsync().GetAwaiter().GetResult();
                    if (point == "mid-record")
                    {
                        L4Status s = consumer.Read(L4Timeout.FromMilliseconds(20_000), out ReadOnlySpan<byte> held);
                        Say($"READY {s} {(s == L4Status.Ok ? BitConverter.ToInt32(held) : -1)}"); // read in place, never released
                    }
                    else
                    {
                        Say("READY attached");
                        if (point == "receive")
                        {
                            Say($"READ {consumer.Read(L4Timeout.Never, out _)}"); // blocks: the ring is empty
                        }
                    }

                    GC.KeepAlive(consumer);
                    break;
                }

            case ("registrant", "idle"):
                {
                    Gate gate = task.Factory.CreateGateAsync(me, 4).GetAwaiter().GetResult();
                    task.Names.RegisterAsync(name, gate).GetAwaiter().GetResult();
                    task.Names.RegisterAsync(name + "-2", gate).GetAwaiter().GetResult();
                    Say("READY registered");
                    break;
                }

            case ("name-waiter", "receive"):
                {
                    // Waits for a name nobody registers: the broker holds the query (and its timer) for this task.
                    Say("READY querying");
                    try
                    {
                        task.Names.QueryAsync(name, TimeSpan.FromMinutes(10)).GetAwaiter().GetResult();
                        Say("FOUND");
                    }
                    catch (L4RtException e)
                    {
                        Say($"QUERY {e.Status}");
                    }

                    break;
                }

            case ("cap-holder", "idle"):
                {
                    // A capability mapped from the survivor (through the name service), a link through it, nothing in flight.
                    Gate gate = task.Names.QueryAsync<Gate>(name, s_connectTimeout).GetAwaiter().GetResult();
                    Say($"READY {gate.Prepare(me)}");
                    break;
                }

            case ("cap-holder", "item-transfer" or "item-offer"):
                {
                    // Offers its own gate as an object item to the survivor's receiver, which is not waiting: the send blocks
                    // with the offer recorded by the broker and not yet accepted.
                    using L4Thread other = task.CreateThread();
                    Gate mine = task.Factory.CreateGateAsync(other, 6).GetAwaiter().GetResult();
                    Gate inbox = task.Names.QueryAsync<Gate>(name, s_connectTimeout).GetAwaiter().GetResult();
                    Say($"PREPARED {inbox.Prepare(me)}");
                    MsgItem.Map(mine, CapRights.Send).WriteTo(me.Utcb.Mr);
                    Say("READY offering");
                    if (point == "item-offer")
                    {
                        // The test stops the broker, then creates the file: the offer goes to a stopped broker.
                        while (!File.Exists(go))
                        {
                            Thread.Sleep(1);
                        }

                        Say("OFFERING");
                    }

                    Say($"SENT {me.Send(inbox, new MsgTag(0, items: 1), L4Timeout.Never).Status}");
                    break;
                }

            case ("mapper", "idle"):
                {
                    Dataspace dataspace = task.Names.QueryAsync<Dataspace>(name, s_connectTimeout).GetAwaiter().GetResult();
                    DataspaceMapping mapping = dataspace.MapAsync(CapRights.Write).GetAwaiter().GetResult();
                    L4Status wrote = mapping.Write(0, Encoding.ASCII.GetBytes("committed"));
                    Say($"READY {wrote}");
                    GC.KeepAlive(mapping);
                    break;
                }

            default:
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"no victim for role {role} at point {point}"));
        }

        Thread.Sleep(Timeout.Infinite);
        return 0;
    }
}
