using System.Buffers.Binary;
using System.Runtime.InteropServices;
using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Memory;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>
/// Property-style hostile input: thousands of random and mutated control frames (bad headers, wrong lengths,
/// random opcodes and slots, junk descriptors, oversized frames) from a raw socket. The broker must neither
/// crash nor stop serving a well-behaved task that works during and after the barrage.
/// </summary>
[Collection(ProcessCollection.Name)]
public class HostileFrameTests
{
    [Theory]
    [InlineData(20261124, 10_000)]
    public async Task RandomAndMutatedFrames_BrokerSurvives_WellBehavedTaskKeepsWorking(int seed, int frames)
    {
        using BrokerProcess broker = new();
        await using L4Task good = await broker.ConnectAsync("good");
        using L4Thread server = await good.CreateThreadAsync();
        Gate gate = await good.Factory.CreateGateAsync(server, 11);
        await good.Names.RegisterAsync("good/echo", gate);
        using CancellationTokenSource stop = new();
        Thread serving = new(() =>
        {
            IpcResult msg = server.Wait(L4Timeout.FromMilliseconds(60_000));
            while (msg.IsOk)
            {
                server.Utcb.Mr[0]++;
                msg = server.ReplyAndWait(msg.Tag, L4Timeout.FromMilliseconds(60_000));
            }
        });
        serving.Start();

        // The well-behaved side keeps calling and querying while the barrage runs.
        int goodCalls = 0;
        Task worker = Task.Run(async () =>
        {
            using L4Thread me = new();
            Gate echo = await good.Names.QueryAsync<Gate>("good/echo", TimeSpan.FromSeconds(5));
            while (!stop.IsCancellationRequested)
            {
                me.Utcb.Mr[0] = 41;
                IpcResult r = me.Call(echo, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000));
                Assert.Equal(L4Status.Ok, r.Status);
                Assert.Equal(42UL, me.Utcb.Mr[0]);
                await (await good.Names.QueryAsync("good/echo", TimeSpan.Zero)).DeleteAsync(); // each query maps a new capability
                goodCalls++;
            }
        });

        Random random = new(seed);
        HostileClient hostile = new(broker.SocketPath);
        long replies = 0, violations = 0, reconnects = 0;
        try
        {
            for (int i = 0; i < frames; i++)
            {
                (byte[] frame, SafeHandle[] fds) = NextFrame(random, hostile.Slots);
                hostile.Throttle(); // read replies as fast as we send: a client that does not read is dropped, by design
                try
                {
                    if (!hostile.Send(frame, fds))
                    {
                        replies += hostile.Replies;
                        violations += hostile.Violations;
                        reconnects++;
                        hostile.Dispose();
                        hostile = new HostileClient(broker.SocketPath); // the broker may drop a misbehaving client; come back
                    }
                }
                finally
                {
                    foreach (SafeHandle fd in fds)
                    {
                        fd.Dispose();
                    }
                }

                Assert.False(broker.HasExited, $"the broker died after frame {i} (seed {seed}):\n{broker.Output}");
            }
        }
        finally
        {
            await Task.Delay(300);
            replies += hostile.Replies;
            violations += hostile.Violations;
            hostile.Dispose();
        }

        // The barrage really reached the broker: most frames were answered, many of them as violations.
        Assert.True(replies > frames / 2, $"only {replies} replies to {frames} frames ({reconnects} reconnects)");
        Assert.True(violations > frames / 10, $"only {violations} protocol-violation replies");
        await Task.Delay(200);
        stop.Cancel();
        await worker;
        Assert.False(broker.HasExited, broker.Output);
        Assert.True(goodCalls > 0);

        // After: the well-behaved task still creates, registers, queries and calls.
        using L4Thread after = new();
        Gate again = await good.Factory.CreateGateAsync(server, 12);
        await good.Names.RegisterAsync("good/after", again);
        Gate found = await good.Names.QueryAsync<Gate>("good/after", TimeSpan.Zero);
        after.Utcb.Mr[0] = 1;
        Assert.Equal(L4Status.Ok, after.Call(found, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000)).Status);
        await using L4Task late = await broker.ConnectAsync("late"); // and new tasks still join
        Assert.NotEmpty(await late.Names.ListAsync());
        server.Abort();
        serving.Join();
        ReliabilityLog.Record("control frames", $"random and mutated control frames from a raw socket (seed {seed}): {replies} answered, {violations} as protocol violations, {reconnects} reconnects",
            frames, $"broker alive; a well-behaved task made {goodCalls} calls and queries during the barrage and created, registered, called after it");
    }

    private static readonly Opcode[] s_opcodes = Enum.GetValues<Opcode>();

    private static (byte[] Frame, SafeHandle[] Fds) NextFrame(Random random, int[] slots)
    {
        SafeHandle[] fds = random.Next(8) == 0 ? JunkFds(random) : [];
        byte[] frame;
        switch (random.Next(6))
        {
            case 0: // pure noise
                frame = new byte[random.Next(0, 64)];
                random.NextBytes(frame);
                break;
            case 1: // a valid header, random opcode, random payload
            {
                byte[] payload = new byte[random.Next(0, 48)];
                random.NextBytes(payload);
                frame = Payload.Frame(FrameKind.Request, s_opcodes[random.Next(s_opcodes.Length)], (uint)random.Next(), L4Status.Ok, payload);
                break;
            }

            case 2: // a plausible request with slots that may or may not be held
                frame = Plausible(random, slots);
                break;
            case 3: // a plausible request, then mutated: flipped bytes, truncated or extended
            {
                frame = Plausible(random, slots);
                int flips = random.Next(1, 4);
                for (int f = 0; f < flips; f++)
                {
                    frame[random.Next(frame.Length)] ^= (byte)random.Next(1, 256);
                }

                if (random.Next(2) == 0)
                {
                    Array.Resize(ref frame, Math.Max(0, frame.Length + random.Next(-8, 9)));
                }

                break;
            }

            case 4: // header fields lying about the payload, kinds and versions
            {
                frame = Payload.Frame((FrameKind)random.Next(0, 5), s_opcodes[random.Next(s_opcodes.Length)], (uint)random.Next(), (L4Status)random.Next(0, 20), new byte[random.Next(0, 16)]);
                BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(12), random.Next(-5, 100));
                frame[2] = (byte)random.Next(0, 3);
                break;
            }

            default: // an oversized frame, now and then
                frame = random.Next(50) == 0 ? new byte[ProtocolLimits.MaxFrameSize + random.Next(1, 4096)] : Plausible(random, slots);
                break;
        }

        return (frame, fds);
    }

    private static byte[] Plausible(Random random, int[] slots)
    {
        int slot = random.Next(4) == 0 ? random.Next(-2, 100) : slots[random.Next(slots.Length)];
        Payload p = new Payload().Int32(slot);
        Opcode op = s_opcodes[random.Next(s_opcodes.Length)];
        switch (op)
        {
            case Opcode.Hello:
                p = new Payload().UInt32((uint)random.Next(0, 3)).String("x");
                break;
            case Opcode.CreateGate or Opcode.CreateIrq:
                p.Int32(slots[random.Next(slots.Length)]).UInt64((ulong)random.NextInt64());
                break;
            case Opcode.CreateFactory:
                p.Int64(random.NextInt64(-10, 1 << 20)).Int32(random.Next(-2, 10));
                break;
            case Opcode.Map:
                p.Int32(slots[random.Next(slots.Length)]).UInt32((uint)random.Next());
                break;
            case Opcode.NameRegister:
                p.Int32(slots[random.Next(slots.Length)]).UInt32((uint)random.Next()).String(RandomName(random));
                break;
            case Opcode.NameQuery:
                p.Int32(random.Next(-1, 50)).String(RandomName(random));
                break;
            case Opcode.NameUnregister:
                p.String(RandomName(random));
                break;
        }

        return Payload.Frame(FrameKind.Request, op, (uint)random.Next(), L4Status.Ok, p.Span);
    }

    private static string RandomName(Random random) => random.Next(3) switch
    {
        0 => "good/echo",
        1 => "h" + random.Next(100),
        _ => new string((char)random.Next(1, 300), random.Next(0, 200)),
    };

    private static SafeHandle[] JunkFds(Random random) => random.Next(4) switch
    {
        0 => [SharedRegion.Create("junk", 4096 * random.Next(1, 3)).Handle],
        1 => [Libc.Memfd.Create("unsealed")],
        2 => [File.OpenHandle("/dev/null")],
        _ => [Libc.Memfd.Create("a"), Libc.Memfd.Create("b"), Libc.Memfd.Create("c")],
    };

    /// <summary>A raw client: Hello first (so requests reach the kernel), then whatever the test sends; replies drained.</summary>
    private sealed class HostileClient : IDisposable
    {
        private readonly UnixSeqpacketSocket _socket;
        private readonly Thread _drain;
        private long _replies;
        private long _violations;

        internal long Replies => Interlocked.Read(ref _replies);

        internal long Violations => Interlocked.Read(ref _violations);

        internal HostileClient(string path)
        {
            _socket = UnixSeqpacketSocket.TryConnect(path, out int errno) ?? throw new IOException($"connect failed: {errno}");
            _socket.Send(Payload.Frame(FrameKind.Request, Opcode.Hello, 1, L4Status.Ok, new Payload().UInt32(ProtocolLimits.ProtocolVersion).String("hostile").Span));
            _drain = new Thread(() =>
            {
                byte[] buffer = new byte[ProtocolLimits.MaxFrameSize + 1];
                List<SafeFdHandle> fds = [];
                int length;
                while ((length = _socket.Receive(buffer, fds)) != 0)
                {
                    Interlocked.Increment(ref _replies);
                    if (length >= FrameHeader.Size && FrameHeader.TryParse(buffer.AsSpan(0, length), out FrameHeader header, out _) && header.Status == L4Status.ProtocolViolation)
                    {
                        Interlocked.Increment(ref _violations);
                    }

                    foreach (SafeFdHandle fd in fds)
                    {
                        fd.Dispose();
                    }

                    fds.Clear();
                }
            }) { IsBackground = true };
            _drain.Start();
        }

        /// <summary>Slots a task holds after Hello (task, factory, name service) plus a few that may come later.</summary>
        internal int[] Slots { get; } = [0, 1, 2, 3, 4, 5];

        private long _sent;

        /// <summary>Keeps at most 64 frames unanswered (not every frame gets an answer, so the wait is bounded).</summary>
        internal void Throttle()
        {
            for (int i = 0; i < 200 && _sent - Replies > 64; i++)
            {
                Thread.Sleep(1);
            }
        }

        internal bool Send(byte[] frame, SafeHandle[] fds)
        {
            _sent++;
            try
            {
                return _socket.TrySend(frame, fds) || RetrySoon(frame, fds);
            }
            catch (IOException)
            {
                return false; // e.g. EMSGSIZE for the oversized frames: the kernel refused it, fine
            }
        }

        private bool RetrySoon(byte[] frame, SafeHandle[] fds)
        {
            Thread.Sleep(1);
            return _socket.TrySend(frame, fds);
        }

        public void Dispose()
        {
            _socket.Shutdown();
            _drain.Join(5000);
            _socket.Dispose();
        }
    }
}
