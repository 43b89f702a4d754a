using System.Diagnostics;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;

namespace L4Rt.Soak;

/// <summary>
/// A churning process: two tasks that, cycle after cycle, create a thread and a gate, register a name, look it up and
/// call through it, stream records through a new channel, map and write a new dataspace, then take everything down
/// again — until its random lifetime ends (a clean exit) or the soak kills it mid-cycle. Exit 1 on any wrong answer.
/// </summary>
internal static class ChurnWorker
{
    internal static async Task<int> RunAsync(string socket, int seed)
    {
        ProcessLifetime.ExitWhenParentExits();
        Random random = new(seed);
        TimeSpan life = TimeSpan.FromMilliseconds(random.Next(500, 3000));
        await using L4Task server = await L4Task.ConnectAsync(new L4TaskOptions { SocketPath = socket, Name = $"soak-{seed}-server" });
        await using L4Task client = await L4Task.ConnectAsync(new L4TaskOptions { SocketPath = socket, Name = $"soak-{seed}-client" });
        Console.WriteLine("READY");
        Stopwatch alive = Stopwatch.StartNew();
        for (int cycle = 0; alive.Elapsed < life; cycle++)
        {
            string? failure = await CycleAsync(server, client, $"soak/{seed}/{cycle}");
            if (failure is not null)
            {
                Console.Error.WriteLine($"worker {seed} cycle {cycle}: {failure}");
                return 1;
            }
        }

        return 0;
    }

    /// <summary>The long-lived server the steady client calls: registers <c>soak/echo</c> and answers MR0 + 1 until killed.</summary>
    internal static async Task<int> EchoAsync(string socket)
    {
        ProcessLifetime.ExitWhenParentExits();
        await using L4Task task = await L4Task.ConnectAsync(new L4TaskOptions { SocketPath = socket, Name = "soak-echo" });
        using L4Thread thread = await task.CreateThreadAsync();
        Gate gate = await task.Factory.CreateGateAsync(thread, 1);
        await task.Names.RegisterAsync("soak/echo", gate);
        Console.WriteLine("READY");
        IpcResult msg = thread.Wait(L4Timeout.Never);
        while (msg.Status is L4Status.Ok or L4Status.ReceiveTimeout or L4Status.DestinationDeleted)
        {
            if (!msg.IsOk)
            {
                msg = thread.Wait(L4Timeout.Never);
                continue;
            }

            thread.Utcb.Mr[0]++;
            msg = thread.ReplyAndWait(new MsgTag(1, 1), L4Timeout.Never);
        }

        return 0;
    }

    private static async Task<string?> CycleAsync(L4Task server, L4Task client, string name)
    {
        using L4Thread thread = await server.CreateThreadAsync();
        Gate gate = await server.Factory.CreateGateAsync(thread, 1);
        Thread serving = new(() =>
        {
            IpcResult msg = thread.Wait(L4Timeout.FromSeconds(10));
            while (msg.IsOk)
            {
                thread.Utcb.Mr[0]++;
                msg = thread.ReplyAndWait(new MsgTag(1, 1), L4Timeout.FromSeconds(10));
            }
        }) { IsBackground = true };
        serving.Start();
        await server.Names.RegisterAsync(name, gate);

        // Calls through the name, from the other task.
        Gate found = await client.Names.QueryAsync<Gate>(name, TimeSpan.FromSeconds(5));
        using (L4Thread me = new())
        {
            for (ulong i = 0; i < 50; i++)
            {
                me.Utcb.Mr[0] = i;
                IpcResult r = me.Call(found, new MsgTag(1, 1), L4Timeout.FromSeconds(10));
                if (!r.IsOk || me.Utcb.Mr[0] != i + 1)
                {
                    return $"call {i}: {r.Status}, {me.Utcb.Mr[0]}";
                }
            }
        }

        // Records through a new channel.
        Channel channel = await server.Factory.CreateChannelAsync(64 * 1024);
        using (ChannelProducer producer = await channel.OpenProducerAsync())
        using (ChannelConsumer consumer = await channel.OpenConsumerAsync())
        {
            byte[] record = new byte[200];
            for (int i = 0; i < 100; i++)
            {
                record[0] = (byte)i;
                L4Status wrote = producer.Write(record, L4Timeout.FromSeconds(5));
                L4Status read = consumer.Read(record, L4Timeout.FromSeconds(5), out int length);
                if (wrote != L4Status.Ok || read != L4Status.Ok || length != 200 || record[0] != (byte)i)
                {
                    return $"record {i}: write {wrote}, read {read}";
                }
            }
        }

        // A dataspace mapped, written, read back.
        Dataspace dataspace = await client.Factory.CreateDataspaceAsync(64 * 1024);
        using (DataspaceMapping mapping = await dataspace.MapAsync(CapRights.Write))
        {
            mapping.Span.Fill(7);
            if (mapping.ReadOnlySpan.IndexOfAnyExcept((byte)7) >= 0)
            {
                return "the dataspace did not hold what was written";
            }
        }

        // Everything down again: what the broker holds must return to where it was.
        await dataspace.DeleteAsync();
        await channel.DeleteAsync();
        await found.DeleteAsync();
        await server.Names.UnregisterAsync(name);
        await gate.DeleteAsync();
        thread.Abort();
        serving.Join(TimeSpan.FromSeconds(10));
        return null;
    }
}
