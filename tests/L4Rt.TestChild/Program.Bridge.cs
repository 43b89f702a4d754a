using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.TestChild;

/// <summary>The server behind a gate bridge: one thread serving a gate and an IRQ, each call's protocol saying what to do.</summary>
internal static partial class Program
{
    /// <summary>Protocols of <see cref="BridgeServer"/>'s gate.</summary>
    private const int Increment = 1, SleepThenReply = 2, Drop = 3, Hold = 4, Label = 5, Pages = 6, CallBack = 7, CallKept = 8;

    /// <summary>
    /// Registers gate <paramref name="name"/> (label 42) and IRQ <c>NAME-irq</c> (label 7) bound to one thread, then
    /// serves: protocol 1 increments MR0; 2 sleeps MR0 ms, then increments; 3 waits again without replying (the caller
    /// gets ReplyDropped); 4 says HOLD and never replies; 5 answers the label it saw; 6 answers the byte sum of each flexpage
    /// that came (one word each) and writes "served" at the start of each writable one; 7 calls the gate that came (item 0,
    /// protocol 1, MR0) and answers what it replied (1000 + the status if it failed), keeping the gate; 8 does the same on
    /// the kept gate. A send says SEND and MR0; an IRQ
    /// says IRQ and the count delivered.
    /// </summary>
    private static int? RunBridgeMode(string[] args) => args[0] == "bridge-server" ? BridgeServer(args[1], args[2]) : null;

    private static int BridgeServer(string socket, string name)
    {
        using L4Task task = Join(socket, "bridged-" + name);
        using L4Thread thread = task.CreateThread();
        Gate gate = task.Factory.CreateGateAsync(thread, 42).GetAwaiter().GetResult();
        using ReceiveWindow window = task.CreateReceiveWindow(1 << 20);
        thread.Utcb.SetReceiveBuffers(1, window);
        Gate? kept = null;
        using L4Thread caller = new();
        Irq irq = task.Factory.CreateIrqAsync(thread, 7).GetAwaiter().GetResult();
        task.Names.RegisterAsync(name, gate).GetAwaiter().GetResult();
        task.Names.RegisterAsync(name + "-irq", irq).GetAwaiter().GetResult();
        Say("READY");
        IpcResult msg = thread.Wait(L4Timeout.Never);
        while (true)
        {
            if (!msg.IsOk)
            {
                Say($"WAIT {msg.Status}");
                msg = thread.Wait(L4Timeout.Never);
                continue;
            }

            Span<ulong> mr = thread.Utcb.Mr;
            if (msg.Tag.Protocol == SystemProtocol.Irq)
            {
                Say($"IRQ {mr[0]} {msg.Label}");
                msg = thread.Wait(L4Timeout.Never);
                continue;
            }

            if (!thread.HasReplyCapability)
            {
                Say($"SEND {(msg.Tag.Words > 0 ? mr[0] : 0)} {msg.Label}");
                msg = thread.Wait(L4Timeout.Never);
                continue;
            }

            switch (msg.Tag.Protocol)
            {
                case SleepThenReply:
                    Thread.Sleep((int)mr[0]);
                    mr[0]++;
                    break;
                case Drop:
                    Say("DROP");
                    msg = thread.Wait(L4Timeout.Never);
                    continue;
                case Hold:
                    Say("HOLD");
                    Thread.Sleep(Timeout.Infinite);
                    break;
                case Label:
                    mr[0] = msg.Label;
                    msg = thread.ReplyAndWait(new MsgTag(Label, 1), L4Timeout.Never);
                    continue;
                case Pages:
                    int items = msg.Tag.Items;
                    for (int i = 0; i < items; i++)
                    {
                        using DataspaceMapping pages = thread.GetReceivedMapping(i);
                        ulong sum = 0;
                        foreach (byte b in pages.ReadOnlySpan)
                        {
                            sum += b;
                        }

                        mr[i] = sum;
                        Say($"PAGES {i} length:{pages.Length} writable:{pages.IsWritable} wrote:{(pages.IsWritable ? pages.Write(0, "served"u8) : L4Status.NoRights)}");
                    }

                    msg = thread.ReplyAndWait(new MsgTag(Pages, items), L4Timeout.Never);
                    continue;
                case CallBack or CallKept:
                    if (msg.Tag.Protocol == CallBack)
                    {
                        kept = thread.GetReceivedCapability<Gate>(0);
                        Say($"GOT-GATE rights:{kept.Rights}");
                    }

                    caller.Utcb.Mr[0] = mr[0];
                    IpcResult back = kept is null ? new IpcResult(L4Status.InvalidCapability) : caller.Call(kept, new MsgTag(1, 1), L4Timeout.FromSeconds(10));
                    mr[0] = back.IsOk ? caller.Utcb.Mr[0] : 1000 + (ulong)back.Status;
                    Say($"CALLBACK {back.Status}");
                    msg = thread.ReplyAndWait(new MsgTag(msg.Tag.Protocol, 1), L4Timeout.Never);
                    continue;
                default:
                    mr[0]++;
                    break;
            }

            msg = thread.ReplyAndWait(msg.Tag, L4Timeout.Never);
        }
    }
}
