using System.Globalization;
using System.Text;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;

namespace L4Rt.TestChild;

/// <summary>Modes that receive and pass on typed items (capabilities, flexpages): the other processes of the item tests.</summary>
internal static partial class Program
{
    private static int? RunItemsMode(string[] args) => args[0] switch
    {
        "task-items" => TaskItems(args[1], args[2], args[3], args[4..]),
        "task-items-flexpage" => TaskItemsFlexpage(args[1], args[2], args[3]),
        _ => null,
    };

    /// <summary>
    /// Registers a gate (label 5) under <paramref name="name"/> with buffer registers <paramref name="buffers"/> (<c>none</c>,
    /// <c>caps:N</c>, <c>window:BYTES</c> or <c>caps:N+window:BYTES</c>), prints <c>READY</c>, then runs the steps:
    /// <c>recv</c> (one open wait; prints <c>GOT</c> with the label, words and items, and each item; a call is replied
    /// with the sum of its words + 1), <c>call-item I WORD</c> (calls through received gate I, on one kept thread: its link stays), <c>call-item-fresh I WORD</c> (the same from a new thread: a new link), <c>forward I NAME RIGHTS</c>
    /// (maps received capability I to the gate NAME), <c>try-write I</c>, <c>write I OFFSET TEXT</c>, <c>expect I OFFSET TEXT</c>
    /// (on received mapping I), <c>wait-revoke I</c>, <c>check-slot I</c> (asks the broker about received capability I's slot),
    /// <c>sleep MS</c>, <c>recv-reply gate:RIGHTS|flexpage:TEXT|unmappable</c> (one open wait for a call of one word, replied with
    /// the word + 1 and one item: this task's gate mapped with RIGHTS, a read-write page of a new dataspace holding TEXT, or a
    /// capability without the map right; prints <c>REPLIED status</c>).
    /// </summary>
    private static int TaskItems(string socket, string name, string buffers, string[] steps)
    {
        using L4Task task = Join(socket, "items-" + name);
        using L4Thread thread = task.CreateThread();
        Gate gate = task.Factory.CreateGateAsync(thread, 5).GetAwaiter().GetResult();
        ReceiveWindow? window = null;
        int caps = 0;
        foreach (string part in buffers.Split('+'))
        {
            if (part.StartsWith("caps:", StringComparison.Ordinal))
            {
                caps = int.Parse(part[5..], CultureInfo.InvariantCulture);
            }
            else if (part.StartsWith("window:", StringComparison.Ordinal))
            {
                window = task.CreateReceiveWindow(long.Parse(part[7..], CultureInfo.InvariantCulture));
            }
        }

        if (caps > 0 || window is not null)
        {
            thread.Utcb.SetReceiveBuffers(caps, window);
        }

        task.Names.RegisterAsync(name, gate).GetAwaiter().GetResult();
        Say("READY");
        List<object> got = [];
        using L4Thread caller0 = new(); // calls through received gates: one link per gate, kept
        for (int i = 0; i < steps.Length; i++)
        {
            switch (steps[i])
            {
                case "recv":
                    got = Receive(thread);
                    break;
                case "recv-reply":
                    Say(ReplyWithItem(task, thread, gate, steps[++i]));
                    break;
                case "call-item" or "call-item-fresh":
                    bool fresh = steps[i] == "call-item-fresh";
                    Gate target = (Gate)got[Index(steps[++i])];
                    L4Thread caller = fresh ? new L4Thread() : caller0;
                    caller.Utcb.Mr[0] = ulong.Parse(steps[++i], CultureInfo.InvariantCulture);
                    IpcResult r = caller.Call(target, new MsgTag(0, words: 1), L4Timeout.FromMilliseconds(10_000));
                    Say($"CALLED {r.Status} {(r.IsOk ? caller.Utcb.Mr[0] : 0)}");
                    if (fresh)
                    {
                        caller.Dispose();
                    }

                    break;
                case "forward":
                    Capability cap = (Capability)got[Index(steps[++i])];
                    Gate to = task.Names.QueryAsync<Gate>(steps[++i], TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
                    CapRights rights = Enum.Parse<CapRights>(steps[++i]);
                    using (L4Thread sender = new())
                    {
                        MsgItem.Map(cap, rights).WriteTo(sender.Utcb.Mr);
                        Say($"FORWARDED {sender.Send(to, new MsgTag(0, items: 1), L4Timeout.FromMilliseconds(10_000)).Status}");
                    }

                    break;
                case "try-write":
                    DataspaceMapping ro = (DataspaceMapping)got[Index(steps[++i])];
                    string how;
                    try
                    {
                        ro.Span[0] = 1;
                        how = "written";
                    }
                    catch (L4RtException e)
                    {
                        how = e.Status.ToString();
                    }

                    Say($"REFUSED span:{how} write:{ro.Write(0, [1])} first:{(char)ro.ReadOnlySpan[0]}");
                    break;
                case "write":
                    DataspaceMapping rw = (DataspaceMapping)got[Index(steps[++i])];
                    long at = long.Parse(steps[++i], CultureInfo.InvariantCulture);
                    Say($"WROTE {rw.Write(at, Encoding.UTF8.GetBytes(steps[++i]))}");
                    break;
                case "expect":
                    DataspaceMapping seen = (DataspaceMapping)got[Index(steps[++i])];
                    int from = int.Parse(steps[++i], CultureInfo.InvariantCulture);
                    byte[] expected = Encoding.UTF8.GetBytes(steps[++i]);
                    Say(SpinUntil(() => seen.ReadOnlySpan.Slice(from, expected.Length).SequenceEqual(expected)) ? $"SAW {steps[i]}" : "ERROR the text never arrived");
                    break;
                case "wait-revoke":
                    DataspaceMapping revoked = (DataspaceMapping)got[Index(steps[++i])];
                    ReadOnlySpan<byte> old = revoked.ReadOnlySpan; // taken before: reads zeros afterwards, never faults
                    bool gone = SpinUntil(() => revoked.Status != L4Status.Ok);
                    Say(gone ? $"REVOKED {revoked.Status} nonzero:{old.IndexOfAnyExcept((byte)0)}" : "ERROR never revoked");
                    break;
                case "check-slot":
                    Capability held = (Capability)got[Index(steps[++i])];
                    L4Status status;
                    try
                    {
                        task.GetCapabilityAsync(held.Slot).GetAwaiter().GetResult();
                        status = L4Status.Ok;
                    }
                    catch (L4RtException e)
                    {
                        status = e.Status;
                    }

                    Say($"SLOT {status}");
                    break;
                case "sleep":
                    Thread.Sleep(int.Parse(steps[++i], CultureInfo.InvariantCulture));
                    break;
                default:
                    Say($"ERROR unknown step {steps[i]}");
                    return 2;
            }
        }

        Say("DONE");
        GC.KeepAlive(window);
        return 0;
    }

    private static int Index(string text) => int.Parse(text, CultureInfo.InvariantCulture);

    /// <summary>The <c>recv-reply</c> step: one call answered with an item (see <see cref="TaskItems"/>); after a refused reply, a short wait drops the reply capability.</summary>
    private static string ReplyWithItem(L4Task task, L4Thread thread, Gate gate, string spec)
    {
        IpcResult msg = thread.Wait(L4Timeout.FromMilliseconds(20_000));
        if (!msg.IsOk)
        {
            return $"GOT {msg.Status}";
        }

        Span<ulong> mr = thread.Utcb.Mr;
        mr[0]++;
        string[] parts = spec.Split(':', 2);
        switch (parts[0])
        {
            case "gate":
                MsgItem.Map(gate, Enum.Parse<CapRights>(parts[1])).WriteTo(mr[1..]);
                break;
            case "flexpage":
                Dataspace dataspace = task.Factory.CreateDataspaceAsync(ProtocolLimits.PageSize).GetAwaiter().GetResult();
                using (DataspaceMapping mine = dataspace.MapAsync(CapRights.Write).GetAwaiter().GetResult())
                {
                    Encoding.UTF8.GetBytes(parts[1]).CopyTo(mine.Span);
                }

                MsgItem.Flexpage(dataspace, 0, ProtocolLimits.PageSize, CapRights.Write).WriteTo(mr[1..]);
                break;
            default:
                Gate sendOnly = new(task, gate.MapToAsync(task.Self, CapRights.Send).GetAwaiter().GetResult(), CapRights.Send);
                MsgItem.Map(sendOnly).WriteTo(mr[1..]);
                break;
        }

        L4Status replied = thread.Reply(new MsgTag(0, words: 1, items: 1));
        if (replied != L4Status.Ok)
        {
            bool kept = thread.ReplyLink is not null;
            return $"REPLIED {replied} kept:{kept} then:{thread.Wait(L4Timeout.FromMilliseconds(50)).Status}";
        }

        return $"REPLIED {replied}";
    }

    /// <summary>One open wait: prints what arrived (words, then one <c>ITEM</c> line per item) and replies to a call.</summary>
    private static List<object> Receive(L4Thread thread)
    {
        IpcResult msg = thread.Wait(L4Timeout.FromMilliseconds(20_000));
        if (!msg.IsOk)
        {
            Say($"GOT {msg.Status}");
            return [];
        }

        ReadOnlySpan<ulong> mr = thread.Utcb.Mr;
        Say($"GOT label:{msg.Label} words:{string.Join(',', mr[..msg.Tag.Words].ToArray())} items:{msg.Tag.Items}");
        List<object> items = [];
        for (int i = 0; i < msg.Tag.Items; i++)
        {
            MsgItem item = MsgItem.FromRegisters(mr[msg.Tag.Words + (2 * i)], mr[msg.Tag.Words + (2 * i) + 1]);
            if (item.Kind == MsgItemKind.Object)
            {
                Capability cap = thread.GetReceivedCapability(i);
                items.Add(cap);
                Say($"ITEM {i} {cap.Kind} rights:{cap.Rights} slot-matches:{cap.Slot == item.Slot} grant:{item.IsGrant}");
            }
            else
            {
                DataspaceMapping mapping = thread.GetReceivedMapping(i);
                items.Add(mapping);
                int end = mapping.ReadOnlySpan[..16].IndexOf((byte)0);
                Say($"ITEM {i} memory length:{mapping.Length} offset:{mapping.Offset} writable:{mapping.IsWritable} text:{Encoding.UTF8.GetString(mapping.ReadOnlySpan[..(end < 0 ? 16 : end)])} inode:{DataspaceProbe.MappedInode(mapping)}");
            }
        }

        if (thread.ReplyLink is not null)
        {
            ulong sum = 0;
            foreach (ulong w in mr[..msg.Tag.Words])
            {
                sum += w;
            }

            thread.Utcb.Mr[0] = sum + 1;
            Say($"REPLIED {thread.Reply(new MsgTag(0, words: 1))}");
        }

        return items;
    }

    /// <summary>Creates a dataspace with <paramref name="text"/> at 0, sends a read-write flexpage of it to <paramref name="name"/>, prints <c>SENT status</c> and sleeps until killed.</summary>
    private static int TaskItemsFlexpage(string socket, string name, string text)
    {
        L4Task task = Join(socket, "items-flexpage");
        Dataspace dataspace = task.Factory.CreateDataspaceAsync(ProtocolLimits.PageSize).GetAwaiter().GetResult();
        using (DataspaceMapping mine = dataspace.MapAsync(CapRights.Write).GetAwaiter().GetResult())
        {
            Encoding.UTF8.GetBytes(text).CopyTo(mine.Span);
        }

        Gate gate = task.Names.QueryAsync<Gate>(name, TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        using L4Thread me = new();
        MsgItem.Flexpage(dataspace, 0, ProtocolLimits.PageSize, CapRights.Write).WriteTo(me.Utcb.Mr);
        Say($"SENT {me.Send(gate, new MsgTag(0, items: 1), L4Timeout.FromMilliseconds(10_000)).Status}");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }
}
