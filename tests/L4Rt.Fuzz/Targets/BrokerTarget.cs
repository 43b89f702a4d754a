using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using L4Rt.Broker;
using L4Rt.Broker.Kernel;
using L4Rt.Interop;
using L4Rt.Memory;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Msg = L4Rt.Protocol.Messages;

namespace L4Rt.Fuzz.Targets;

/// <summary>
/// Every broker operation: a fresh <see cref="BrokerKernel"/> per input, driven through
/// <see cref="BrokerKernel.Handle"/> by up to three connections exactly as <see cref="ClientSession"/> drives it
/// (requests with a descriptor, responses to notifications, disconnects), then torn down.
/// <code>
///  input: a sequence of records, read until the bytes run out
///    [k] k &amp; 3 = 0 or 1: request  [port][opcode u16][descriptor][length u8][payload: length bytes]
///                  2:      disconnect [port]   (the connection's task dies; the port starts over as a new connection)
///                  3:      response   [port][notification id][status]   (a task answering NewLink/NewIrq)
///    port: modulo 3; descriptor modulo 4: none, a doorbell region, /dev/null, a 4 KiB sealed memfd
/// </code>
/// Findings: any exception out of the kernel (it answers every refusal with a status; <see cref="ClientSession"/>
/// would turn anything else into an "internal broker error"); a successful reply the SDK cannot decode with the
/// request's own reply type; an error reply without its reason; a quota used below zero or beyond its limit; a
/// status snapshot that is not JSON; and, after every task is gone, objects, quota or descriptors still held.
/// </summary>
internal sealed class BrokerTarget : IFuzzTarget
{
    private const int Ports = 3;

    private static readonly uint s_uid = Libc.Process.GetUid();
    private static readonly IOptions<BrokerOptions> s_options = Options.Create(new BrokerOptions
    {
        TaskQuotaObjects = 24,
        TaskQuotaBytes = 1L << 20,
        TaskQuotaFds = 12,
        MaxTasks = 2, // a third connection's Hello meets the task limit
        AckTimeout = TimeSpan.FromHours(1), // no timer fires inside an execution: the input alone decides
        OperatorUids = [s_uid],
    });

    private static readonly Lazy<FdBudget> s_fds = new(() => new FdBudget(s_options, NullLogger<FdBudget>.Instance));
    private static readonly Dictionary<Opcode, ReplyCheck> s_replies = MakeReplyChecks();

    private delegate void ReplyCheck(ReadOnlySpan<byte> payload, List<SafeFdHandle> fds);

    public string Name => "broker";

    public IReadOnlyList<byte[]> Dictionary { get; } = MakeDictionary();

    /// <summary>Set on the thread that runs inputs: a violation seen elsewhere (a kernel timer's thread) is kept for it, not thrown there.</summary>
    [ThreadStatic]
    private static bool t_running;

    public void Run(ReadOnlySpan<byte> input)
    {
        t_running = true;
        FdBudget budget = s_fds.Value;
        long fdsBefore = budget.InUse;
        using FreshMeters meters = new();
        using BrokerMetrics metrics = new(meters);
        BrokerKernel kernel = new(s_options, NullLogger<BrokerKernel>.Instance, metrics, budget);
        FuzzPort[] ports = [new(1001, s_uid), new(1002, s_uid), new(1003, 65534)];
        List<IDisposable> resources = [];
        uint requestId = 0;
        try
        {
            int at = 0;
            while (at < input.Length)
            {
                byte kind = input[at++];
                if (at >= input.Length)
                {
                    break;
                }

                int port = input[at++] % Ports;
                switch (kind & 3)
                {
                    case 0 or 1:
                        if (at + 4 > input.Length)
                        {
                            at = input.Length;
                            break;
                        }

                        Opcode opcode = (Opcode)(input[at] | (input[at + 1] << 8));
                        int descriptor = input[at + 2] & 3;
                        int length = Math.Min(input[at + 3], input.Length - at - 4);
                        ReadOnlySpan<byte> payload = input.Slice(at + 4, length);
                        at += 4 + length;
                        Request(kernel, ports[port], opcode, ++requestId, payload, descriptor, resources);
                        break;
                    case 2:
                        kernel.TaskDisconnected(ports[port]);
                        ports[port] = ports[port].Reconnect();
                        break;
                    default:
                        if (at + 2 > input.Length)
                        {
                            at = input.Length;
                            break;
                        }

                        kernel.CompleteAck(ports[port], input[at], (L4Status)(input[at + 1] % 24));
                        at += 2;
                        break;
                }

                CheckQuotas(ports);
            }

            foreach (FuzzPort port in ports)
            {
                CheckStatus(kernel, port, ++requestId);
            }

            foreach (FuzzPort port in ports)
            {
                kernel.TaskDisconnected(port);
                port.ThrowIfViolated();
            }

            if (kernel.TaskCount != 0 || kernel.ObjectCount != 0 || kernel.UsedBytes != 0)
            {
                throw new InvariantViolationException($"every task is gone, yet {kernel.TaskCount} tasks, {kernel.ObjectCount} objects, {kernel.UsedBytes} bytes remain");
            }

            if (budget.InUse != fdsBefore)
            {
                throw new InvariantViolationException($"every task is gone, yet the broker holds {budget.InUse - fdsBefore} descriptors more than before");
            }
        }
        finally
        {
            kernel.Dispose();
            foreach (IDisposable resource in resources)
            {
                resource.Dispose();
            }
        }
    }

    public IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        // Slots of a task that joined: 0 its task, 1 its factory, 2 the namespace; then its objects in creation order.
        static byte[] Hello(int port) => Rec(port, Opcode.Hello, 0, new Msg.Hello.Request(ProtocolLimits.ProtocolVersion, $"t{port}"));

        byte[] join = [.. Hello(0), .. Hello(1)];
        byte[] thread = Rec(0, Opcode.CreateThread, 1, new CreateThread.Request(1, null!));
        byte[] gate = Rec(0, Opcode.CreateGate, 0, new CreateGate.Request(1, 3, 7));
        byte[] register = Rec(0, Opcode.NameRegister, 0, new NameRegister.Request(2, 4, CapRights.Send | CapRights.Map, "svc/echo"));
        byte[] query = Rec(1, Opcode.NameQuery, 0, new NameQuery.Request(2, 0, "svc/echo"));
        byte[] link = Rec(1, Opcode.GateLink, 0, new GateLink.Request(3));
        yield return ("hello", Hello(0));
        yield return ("gate-name-link", [.. join, .. thread, .. gate, .. register, .. query, .. link, 3, 0, 1, 0]);
        yield return ("map-delete", [.. join, .. thread, .. gate, .. Rec(0, Opcode.Map, 0, new Msg.Map.Request(4, 0, CapRights.Send)),
            .. Rec(0, Opcode.CapInfo, 0, new CapInfo.Request(4)), .. Rec(0, Opcode.Delete, 0, new Delete.Request(4)), 2, 0]);
        yield return ("irq", [.. join, .. thread, .. Rec(0, Opcode.CreateIrq, 0, new CreateIrq.Request(1, 3, 9)),
            .. Rec(0, Opcode.IrqAttach, 0, new IrqAttach.Request(4)), .. Rec(0, Opcode.IrqTrigger, 0, new IrqTrigger.Request(4)), 3, 0, 1, 0]);
        yield return ("channel", [.. join, .. Rec(0, Opcode.CreateChannel, 0, new CreateChannel.Request(1, 4096)),
            .. Rec(0, Opcode.ChannelAttach, 0, new ChannelAttach.Request(3, 0)),
            .. Rec(0, Opcode.NameRegister, 0, new NameRegister.Request(2, 3, CapRights.All, "ch/a")),
            .. Rec(1, Opcode.NameQuery, 0, new NameQuery.Request(2, 0, "ch/a")), .. Rec(1, Opcode.ChannelAttach, 0, new ChannelAttach.Request(3, 1))]);
        yield return ("dataspace", [.. join, .. thread, .. gate, .. Rec(0, Opcode.CreateDataspace, 0, new CreateDataspace.Request(1, 8192)),
            .. Rec(0, Opcode.DataspaceAttach, 0, new DataspaceAttach.Request(5, DataspaceAttach.ReadOnly)),
            .. Rec(0, Opcode.CreatePagedDataspace, 0, new CreatePagedDataspace.Request(1, 4096, 4, 0xFEED, 100)),
            .. Rec(0, Opcode.DataspaceAttach, 0, new DataspaceAttach.Request(6, DataspaceAttach.Backing))]);
        yield return ("factory-quota", [.. Hello(0), .. Rec(0, Opcode.CreateFactory, 0, new CreateFactory.Request(1, 8192, 2)),
            .. Rec(0, Opcode.CreateDataspace, 0, new CreateDataspace.Request(3, 4096)), .. Rec(0, Opcode.FactoryUsage, 0, new FactoryUsage.Request(3)),
            .. Rec(0, Opcode.FactoryUsage, 0, new FactoryUsage.Request(1)), .. Rec(0, Opcode.Delete, 0, new Delete.Request(3))]);
        yield return ("names", [.. join, .. thread, .. gate, .. register, .. Rec(1, Opcode.NameList, 0, new Msg.NameList.Request(2, "")),
            .. Rec(1, Opcode.NameQuery, 0, new NameQuery.Request(2, 50, "svc/later")), .. Rec(1, Opcode.Cancel, 0, new Cancel.Request(7)),
            .. Rec(0, Opcode.NameUnregister, 0, new NameUnregister.Request(2, "svc/echo")), .. Rec(0, Opcode.TaskNote, 0, new TaskNote.Request("fuzz")),
            .. Rec(0, Opcode.Status, 0, new Msg.Status.Request(0, 0))]);
        yield return ("items", [.. join, .. thread, .. gate, .. register, .. query, .. link, 3, 0, 1, 0,
            .. Rec(1, Opcode.ItemOffer, 0, new ItemOffer.Request(1, 16, [0x0000_0004_0000_0001UL])),
            .. Rec(0, Opcode.ItemAccept, 0, new ItemAccept.Request(1, 0, 16, [ItemAccept.AnySlot], 0)),
            .. Rec(1, Opcode.ItemWithdraw, 0, new ItemWithdraw.Request(1, 16)),
            .. Rec(0, Opcode.ReplyItemOffer, 0, new ReplyItemOffer.Request(1, 0, 17, [0x0000_0004_0000_0001UL])),
            .. Rec(1, Opcode.ReplyItemAccept, 0, new ReplyItemAccept.Request(1, 17, [ItemAccept.AnySlot], 0)),
            .. Rec(1, Opcode.LinkClose, 0, new LinkClose.Request(1)), .. Rec(1, Opcode.MappingRelease, 0, new MappingRelease.Request(1))]);
        yield return ("disconnect-rejoin", [.. join, .. thread, .. gate, .. register, 2, 0, .. query, .. Hello(0), 2, 1, .. Hello(2)]);
    }

    public byte[]? MutateStructure(byte[] input, Random random, Func<byte[]> otherEntry)
    {
        List<(int Start, int Length)> records = Records(input);
        if (records.Count == 0)
        {
            return null;
        }

        (int start, int length) = records[random.Next(records.Count)];
        List<byte> output = [.. input];
        switch (random.Next(5))
        {
            case 0: // repeat a record (a second Hello, a double delete)
                output.InsertRange(start, input.AsSpan(start, length).ToArray());
                break;
            case 1: // drop one
                output.RemoveRange(start, length);
                break;
            case 2: // a record of another input, spliced in at a record boundary
                byte[] other = otherEntry();
                List<(int Start, int Length)> theirs = Records(other);
                if (theirs.Count == 0)
                {
                    return null;
                }

                (int s, int l) = theirs[random.Next(theirs.Count)];
                output.InsertRange(start, other.AsSpan(s, l).ToArray());
                break;
            case 3: // the same request from another connection
                output[start + 1] = (byte)random.Next(Ports);
                break;
            default: // another opcode for the same payload
                if ((input[start] & 3) <= 1 && length >= 6)
                {
                    Opcode[] known = Enum.GetValues<Opcode>();
                    ushort code = (ushort)known[random.Next(known.Length)];
                    output[start + 2] = (byte)code;
                    output[start + 3] = (byte)(code >> 8);
                }

                break;
        }

        return [.. output];
    }

    /// <summary>One request record as the input format has it.</summary>
    internal static byte[] Rec<T>(int port, Opcode opcode, int descriptor, T message)
        where T : IControlMessage<T>
    {
        Payload payload = new();
        message.Write(payload);
        if (payload.Length > byte.MaxValue)
        {
            throw new ArgumentException("a record's payload is at most 255 bytes", nameof(message));
        }

        return [0, (byte)port, (byte)opcode, (byte)((ushort)opcode >> 8), (byte)descriptor, (byte)payload.Length, .. payload.Span];
    }

    private static List<(int Start, int Length)> Records(byte[] input)
    {
        List<(int, int)> records = [];
        int at = 0;
        while (at + 2 <= input.Length)
        {
            int length = (input[at] & 3) switch
            {
                0 or 1 when at + 6 <= input.Length => 6 + Math.Min(input[at + 5], input.Length - at - 6),
                0 or 1 => input.Length - at,
                2 => 2,
                _ => Math.Min(4, input.Length - at),
            };
            records.Add((at, length));
            at += length;
        }

        return records;
    }

    private static void Request(BrokerKernel kernel, FuzzPort port, Opcode opcode, uint id, ReadOnlySpan<byte> payload, int descriptor, List<IDisposable> resources)
    {
        List<SafeFdHandle> fds = [];
        switch (descriptor)
        {
            case 1:
                DoorbellRegion doorbell = DoorbellRegion.Create();
                resources.Add(doorbell);
                fds.Add(new SafeFdHandle(Libc.Sys.Duplicate((int)doorbell.Handle.DangerousGetHandle())));
                break;
            case 2:
                fds.Add(Open("/dev/null"));
                break;
            case 3:
                Microsoft.Win32.SafeHandles.SafeFileHandle memfd = SharedRegion.CreateSealedFile("fuzz", 4096);
                int raw = (int)memfd.DangerousGetHandle();
                memfd.SetHandleAsInvalid();
                fds.Add(new SafeFdHandle(raw));
                break;
        }

        if (opcode == Opcode.NameQuery && payload.Length >= 8 && BitConverter.ToInt32(payload[4..8]) > 0)
        {
            // A waiting query's timeout is the kernel's timer, which would fire on a pool thread at a time no input
            // decides: it is made an hour, so the query is answered by a registration, a cancel or the task's death.
            byte[] copy = payload.ToArray();
            BitConverter.TryWriteBytes(copy.AsSpan(4), 3_600_000);
            payload = copy;
        }

        port.Deferred(opcode, id); // before the kernel may answer it (from a timer, say)
        Reply reply;
        try
        {
            reply = kernel.Handle(port, new FrameHeader(FrameKind.Request, opcode, L4Status.Ok, id, payload.Length), payload, fds);
        }
        finally
        {
            foreach (SafeFdHandle fd in fds)
            {
                fd.Dispose(); // the kernel disposes what it did not take; an escaped exception must not leak them here
            }
        }

        if (reply.Deferred)
        {
            return;
        }

        port.Answered(id);
        CheckReply(opcode, reply);
    }

    /// <summary>What a client does with the answer: an error's reason is a string, a success decodes as the request's reply type.</summary>
    private static void CheckReply(Opcode opcode, Reply reply)
    {
        ReadOnlySpan<byte> payload = reply.Payload is null ? [] : reply.Payload.Span;
        if (payload.Length > ProtocolLimits.MaxFrameSize - FrameHeader.Size)
        {
            throw new InvariantViolationException($"the reply to {opcode} ({payload.Length} bytes) does not fit a frame");
        }

        if (reply.Status != L4Status.Ok)
        {
            FrameReader reader = new(payload);
            try
            {
                reader.ReadString(ProtocolLimits.MaxErrorMessageLength, "the error");
                reader.End();
            }
            catch (L4RtException e)
            {
                throw new InvariantViolationException($"the {reply.Status} reply to {opcode} carries no readable reason", e);
            }

            return;
        }

        if (!s_replies.TryGetValue(opcode, out ReplyCheck? check))
        {
            throw new InvariantViolationException($"{opcode} succeeded, but it is no request");
        }

        // Copies, as SCM_RIGHTS would give: the kernel keeps owning its descriptors.
        List<SafeFdHandle> fds = [.. (reply.Fds ?? []).Select(h => new SafeFdHandle(Libc.Sys.Duplicate((int)h.DangerousGetHandle())))];
        try
        {
            check(payload, fds);
        }
        finally
        {
            foreach (SafeFdHandle fd in fds)
            {
                fd.Dispose();
            }
        }
    }

    private static void CheckQuotas(FuzzPort[] ports)
    {
        foreach (FuzzPort port in ports)
        {
            port.ThrowIfViolated();
            if (port.Task is not { } task)
            {
                continue;
            }

            foreach (FactoryObject factory in task.Created.OfType<FactoryObject>().Prepend(task.RootFactory))
            {
                if (factory.UsedBytes < 0 || factory.UsedBytes > factory.QuotaBytes || factory.UsedObjects < 0 || factory.UsedObjects > factory.QuotaObjects
                    || factory.UsedFds < 0 || (factory.Root == factory && factory.UsedFds > factory.QuotaFds))
                {
                    throw new InvariantViolationException(
                        $"factory {factory.Id}: {factory.UsedBytes}/{factory.QuotaBytes} bytes, {factory.UsedObjects}/{factory.QuotaObjects} objects, {factory.UsedFds}/{factory.QuotaFds} descriptors");
                }
            }
        }
    }

    /// <summary>The whole status snapshot, page by page as the CLI reads it, must be one JSON document.</summary>
    private static void CheckStatus(BrokerKernel kernel, FuzzPort port, uint id)
    {
        if (port.Task is null)
        {
            return;
        }

        List<byte> json = [];
        uint snapshot = 0;
        int total;
        do
        {
            Payload request = new();
            new Msg.Status.Request(snapshot, json.Count).Write(request);
            Reply reply = kernel.Handle(port, new FrameHeader(FrameKind.Request, Opcode.Status, L4Status.Ok, id, request.Length), request.Span, []);
            if (reply.Status != L4Status.Ok || reply.Payload is null)
            {
                throw new InvariantViolationException($"status refused: {reply.Status}");
            }

            FrameReader reader = new(reply.Payload.Span);
            Msg.Status.Reply page = Msg.Status.Reply.Read(ref reader, []);
            (snapshot, total) = (page.Snapshot, page.Total);
            if (page.Chunk.Length == 0 && json.Count < total)
            {
                throw new InvariantViolationException($"status page at {json.Count} of {total} is empty");
            }

            json.AddRange(page.Chunk.Span);
        }
        while (json.Count < total);

        try
        {
            using JsonDocument _ = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new InvariantViolationException("the status snapshot is not JSON", e);
        }
    }

    private static SafeFdHandle Open(string path)
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        int raw = (int)file.DangerousGetHandle();
        file.SetHandleAsInvalid();
        return new SafeFdHandle(raw);
    }

    private static byte[][] MakeDictionary()
    {
        List<byte[]> words = [.. Enum.GetValues<Opcode>().Select(o => new[] { (byte)o, (byte)((ushort)o >> 8) })];
        words.AddRange([[0x02, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF], [0x00, 0x10, 0, 0], [0, 0, 0, 0x40], Encoding.ASCII.GetBytes("svc/echo")]);
        return [.. words];
    }

    /// <summary>Each request type's opcode (from a default instance) and a check that decodes a successful reply as its reply type.</summary>
    private static Dictionary<Opcode, ReplyCheck> MakeReplyChecks()
    {
        MethodInfo make = typeof(BrokerTarget).GetMethod(nameof(MakeReplyCheck), BindingFlags.NonPublic | BindingFlags.Static)!;
        Dictionary<Opcode, ReplyCheck> checks = [];
        foreach (Type type in typeof(FrameHeader).Assembly.GetTypes())
        {
            Type? request = type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IControlRequest<>));
            if (request is null || !type.IsValueType)
            {
                continue;
            }

            Opcode opcode = (Opcode)type.GetProperty(nameof(IControlRequest<Empty>.Opcode))!.GetValue(Activator.CreateInstance(type))!;
            checks[opcode] = (ReplyCheck)make.MakeGenericMethod(request.GetGenericArguments()[0]).Invoke(null, null)!;
        }

        return checks;
    }

    private static ReplyCheck MakeReplyCheck<T>()
        where T : IControlMessage<T> => DecodeReply<T>;

    private static void DecodeReply<T>(ReadOnlySpan<byte> payload, List<SafeFdHandle> fds)
        where T : IControlMessage<T>
    {
        T reply;
        try
        {
            FrameReader reader = new(payload);
            reply = T.Read(ref reader, fds);
        }
        catch (L4RtException e)
        {
            throw new InvariantViolationException($"the broker's {typeof(T)} does not decode in the SDK: {e.Message}", e);
        }

        foreach (SafeHandle fd in reply.Fds)
        {
            fd?.Dispose();
        }
    }

    /// <summary>
    /// A connection as the kernel sees it; records requests not answered yet and checks each deferred response against
    /// them. A violation seen on another thread (a kernel timer) is kept and raised on the fuzzing thread.
    /// </summary>
    private sealed class FuzzPort(int pid, uint uid) : ITaskPort
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<uint, Opcode> _deferred = [];
        private Exception? _violation;

        public int Pid { get; } = pid;

        public uint Uid { get; } = uid;

        public TaskObject? Task { get; set; }

        internal FuzzPort Reconnect() => new(Pid, Uid);

        internal void Deferred(Opcode opcode, uint id)
        {
            lock (_lock)
            {
                _deferred[id] = opcode;
            }
        }

        internal void Answered(uint id)
        {
            lock (_lock)
            {
                _deferred.Remove(id);
            }
        }

        internal void ThrowIfViolated()
        {
            Exception? violation = Interlocked.Exchange(ref _violation, null);
            if (violation is not null)
            {
                throw new InvariantViolationException(violation.Message, violation);
            }
        }

        public void Respond(Opcode opcode, uint requestId, Reply reply)
        {
            try
            {
                lock (_lock)
                {
                    if (!_deferred.Remove(requestId, out Opcode asked) || asked != opcode)
                    {
                        throw new InvariantViolationException($"a deferred {opcode} response to request {requestId}, which is not waiting for one");
                    }
                }

                CheckReply(opcode, reply);
            }
            catch (InvariantViolationException e) when (!t_running)
            {
                Interlocked.CompareExchange(ref _violation, e, null);
            }
        }

        public bool Notify<T>(Opcode opcode, uint id, T message)
            where T : IControlMessage<T>
        {
            Payload payload = new();
            message.Write(payload);
            return true;
        }
    }

    /// <summary>A meter per kernel (the host's factory would hand every kernel the same one, and keep them all observed).</summary>
    private sealed class FreshMeters : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            Meter meter = new(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (Meter meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}
