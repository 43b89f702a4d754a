using L4Rt.Contracts;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.TestChild;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Contracts;

/// <summary>
/// Generated contract clients in this process against generated dispatchers in a child process (TestChild
/// <c>contract-server</c>), through the broker's gates: every parameter kind, one-way sends, async calls, faults,
/// refusals (version mismatch, unknown opcode, malformed requests, out-of-state operations) and allocations per call.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ContractProcessTests : IClassFixture<ContractProcessTests.Server>
{
    private static readonly L4Timeout s_timeout = L4Timeout.FromMilliseconds(10_000);
    private readonly Server _server;

    public ContractProcessTests(Server server) => _server = server;

    [Fact]
    public void GeneratedClient_EveryParameterKind_RoundTripsAcrossProcesses()
    {
        using L4Thread me = new();
        CalculatorClient calc = new(me, _server.Calc, s_timeout);

        Assert.Equal(42, calc.Add(40, 2));
        Assert.Equal(-7.5, calc.Scale(2.5, -3));
        Assert.True(calc.IsEven(10));
        Assert.False(calc.IsEven(7));
        Assert.Equal(new Point3(11, 18, -3), calc.Move(new Point3(10, 20, 3), new Offset2(1, -2), flipZ: true));
        Assert.Equal(new Point3(10, 20, 3), calc.Move(new Point3(10, 20, 3), default, flipZ: false));
        Assert.Equal("hello, Jochen", calc.Greet("Jochen"));
        Assert.Equal("hello, nobody", calc.Greet(null));
        Assert.Equal("hello, Жёлудь ✓", calc.Greet("Жёлудь ✓"));
        Assert.Equal(6, calc.Sum([1, 2, 3]));
        Assert.Equal(0, calc.Sum([]));
        Assert.Equal([5, 4, 3, 2, 1], calc.Reverse([1, 2, 3, 4, 5]).ToArray());
        byte[] large = [.. Enumerable.Range(0, 400).Select(i => (byte)i)];
        Assert.Equal(large.Reverse().ToArray(), calc.Reverse(large).ToArray()); // 400 bytes: 50 words + a length word
        Assert.Equal("Gate/Send, Map/9", calc.Describe(_server.Calc, 9)); // a capability as an object item: it arrives in the server's space
    }

    [Fact]
    public async Task Flexpage_LendsPagesOfADataspace_MappedIntoTheServersWindowWithTheWords()
    {
        Dataspace dataspace = await _server.Client.Factory.CreateDataspaceAsync(2 * 4096);
        using (DataspaceMapping mine = await dataspace.MapAsync(CapRights.Write))
        {
            mine.GetSpan(4096, 4096).Fill(2); // page 1: 4096 × 2
            mine.GetSpan(0, 16).Fill(1);      // page 0 is not lent
        }

        using L4Thread me = new();
        CalculatorClient calc = new(me, _server.Calc, s_timeout);
        Assert.Equal((4096L << 32) + (4096 * 2) + 5, calc.Checksum(new Flexpage(dataspace, 4096, 4096, CapRights.Read), 5));
        Assert.Equal((8192L << 32) + 16 + (4096 * 2), calc.Checksum(new Flexpage(dataspace, 0, 8192, CapRights.Read), 0)); // the window had room again: the server unmapped the first
    }

    [Fact]
    public void CapabilityResult_ArrivesInTheCallersSpace_AndWorks_TheBufferRegistersClearedAfter()
    {
        using L4Thread me = new();
        CalculatorClient calc = new(me, _server.Calc, s_timeout);

        Gate self = calc.Self();

        Assert.Equal(CapRights.Send | CapRights.Map, self.Rights);
        Assert.Equal(0UL, me.Utcb.Bdr); // set for the call, cleared after it
        using L4Thread other = new();
        Assert.Equal(12, new CalculatorClient(other, self, s_timeout).Add(5, 7)); // the gate the server replied with reaches the server
        Assert.Equal("Gate/Send, Map/1", calc.Describe(self, 1)); // and travels on, as a capability argument
    }

    [Fact]
    public void FlexpageResult_MapsTheServersPageIntoTheClientsWindow_WithoutAWindow_NoReceiveBufferBeforeCalling()
    {
        using L4Thread me = new();
        CalculatorClient calc = new(me, _server.Calc, s_timeout);
        Assert.Equal(L4Status.NoReceiveBuffer, calc.TrySnapshot(7, out _));

        using ReceiveWindow window = _server.Client.CreateReceiveWindow(4 * 4096);
        calc.Endpoint.ReceiveWindow = window;
        Flexpage page = calc.Snapshot(7);

        using DataspaceMapping mapping = page.Mapping!;
        Assert.Equal((4096L, CapRights.Read), (page.Size, page.Rights));
        Assert.Equal(-1, mapping.ReadOnlySpan.IndexOfAnyExcept((byte)7));
        Assert.Equal(3 * 4096, window.Available);
        Assert.Equal(42, calc.Add(40, 2)); // plain calls go on with the same thread
    }

    [Fact]
    public void TooLongForTheRegisters_IsInvalidArgument_BeforeAnythingIsSent()
    {
        using L4Thread me = new();
        CalculatorClient calc = new(me, _server.Calc, s_timeout);
        Assert.Equal(L4Status.InvalidArgument, calc.TrySum(new byte[63 * 8], out _));
        Assert.Equal(L4Status.InvalidArgument, calc.TryGreet(new string('x', 600), out _));
        L4RtException e = Assert.Throws<L4RtException>(() => calc.Sum(new byte[1000]));
        Assert.Equal(L4Status.InvalidArgument, e.Status);
        Assert.Equal(6, calc.Sum([1, 2, 3])); // the client is fine afterwards
    }

    [Fact]
    public void OneWay_ArrivesWithoutAReply_TheNextCallSeesIt()
    {
        using L4Thread me = new();
        CalculatorClient calc = new(me, _server.Calc, s_timeout);
        long before = calc.Total();
        calc.Note(5);
        Assert.Equal(L4Status.Ok, calc.TryNote(7));
        Assert.Equal(before + 12, calc.Total()); // the server took both sends before this call (one thread serves in order)
    }

    [Fact]
    public async Task Async_ReturnsTheResults_AndThrowsTheFailures()
    {
        using L4Thread me = new();
        CalculatorClient calc = new(me, _server.Calc, s_timeout);
        Assert.Equal(3, await calc.AddAsync(1, 2));
        Assert.Equal("hello, async", await calc.GreetAsync("async"));
        Assert.Equal(new Point3(1, 1, 1), await calc.MoveAsync(new Point3(0, 0, 1), new Offset2(1, 1), false));
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(async () => await calc.FailAsync());
        Assert.Equal(L4Status.ServerFault, e.Status);
    }

    [Fact]
    public void HandlerThrows_ClientGetsServerFault_AndTheServerServesOn()
    {
        using L4Thread me = new();
        CalculatorClient calc = new(me, _server.Calc, s_timeout);
        Assert.Equal(L4Status.ServerFault, calc.TryFail());
        L4RtException e = Assert.Throws<L4RtException>(calc.Fail);
        Assert.Equal(L4Status.ServerFault, e.Status);
        Assert.Contains("ICalculator.Fail", e.Message, StringComparison.Ordinal);
        Assert.Equal(5, calc.Add(2, 3));
    }

    [Fact]
    public void VersionMismatch_V2ClientOfAV1Server_IsRefused_NamingBothVersions()
    {
        using L4Thread me = new();
        CalculatorV2Client v2 = new(me, _server.Calc, s_timeout);
        Assert.Equal(L4Status.ProtocolMismatch, v2.TryAdd(1, 2, out long result));
        Assert.Equal(0, result); // no garbage result
        L4RtException e = Assert.Throws<L4RtException>(() => v2.Add(1, 2));
        Assert.Equal(L4Status.ProtocolMismatch, e.Status);
        Assert.Equal("ICalculatorV2.Add: the server speaks contract 100 version 1; this client sent contract 100 version 2 operation 1", e.Message);

        FileSessionClient wrongContract = new(me, _server.Calc, s_timeout); // contract 101 at the calculator's gate
        Assert.Equal(L4Status.ProtocolMismatch, wrongContract.TryOpens(out _));
    }

    [Fact]
    public void RawRequests_UnknownOpcode_MissingWords_LyingLength_AreRefused_NeverServed()
    {
        using L4Thread me = new();
        Span<ulong> mr = me.Utcb.Mr;

        IpcResult reply = me.Call(_server.Calc, new MsgTag(ContractProtocol.Encode(100, 1, 99)), s_timeout);
        AssertRefused(reply, mr, L4Status.ProtocolViolation);

        reply = me.Call(_server.Calc, new MsgTag(CalculatorClient.ProtocolAdd, words: 0), s_timeout); // Add without its two ints
        AssertRefused(reply, mr, L4Status.ProtocolViolation);

        mr[0] = 1000; // Greet: a string "of 1000 bytes" in 2 words
        mr[1] = 0x4141414141414141;
        reply = me.Call(_server.Calc, new MsgTag(CalculatorClient.ProtocolGreet, words: 2), s_timeout);
        AssertRefused(reply, mr, L4Status.ProtocolViolation);

        mr[0] = 1; // Add with a third word it does not take
        mr[1] = 2;
        mr[2] = 3;
        reply = me.Call(_server.Calc, new MsgTag(CalculatorClient.ProtocolAdd, words: 3), s_timeout);
        AssertRefused(reply, mr, L4Status.ProtocolViolation);

        reply = me.Call(_server.Calc, new MsgTag(SystemProtocol.Irq, words: 0), s_timeout); // a system protocol
        AssertRefused(reply, mr, L4Status.ProtocolMismatch);

        reply = me.Call(_server.Calc, new MsgTag(CalculatorClient.ProtocolDescribe, words: 1), s_timeout); // Describe without its capability
        AssertRefused(reply, mr, L4Status.ProtocolViolation);
    }

    [Fact]
    public void ChannelContract_OutOfStateRefused_StatePerClient_TypedWrappersFollowTheProtocol()
    {
        using L4Thread first = new();
        using L4Thread second = new();
        FileSessionClient a = new(first, _server.File, s_timeout);
        FileSessionClient b = new(second, _server.File, s_timeout);

        Assert.Equal(L4Status.OutOfState, a.TryRead(10, out int read)); // Closed: Read is out of protocol
        Assert.Equal(0, read);
        Assert.Equal(L4Status.OutOfState, a.TryClose());
        Assert.Equal(30, a.Open("abc"));
        Assert.Equal(L4Status.OutOfState, a.TryOpen("again", out _)); // Opened: no second Open
        Assert.Equal(7, a.Read(7));
        Assert.Equal(L4Status.OutOfState, b.TryRead(1, out _)); // another client (thread, link) has its own state
        int opens = b.Opens(); // allowed in every state
        a.Close();
        L4RtException e = Assert.Throws<L4RtException>(() => a.Read(1));
        Assert.Equal(L4Status.OutOfState, e.Status);
        Assert.Contains("current state does not allow it", e.Message, StringComparison.Ordinal);

        // The typed wrappers: Closed offers Open and Opens only, Opened offers Read, Close and Opens.
        FileSessionClient.ClosedState closed = b.Begin();
        FileSessionClient.OpenedState opened = closed.Open("four", out int length);
        Assert.Equal(40, length);
        Assert.Equal(4, opened.Read(4));
        closed = opened.Close();
        Assert.Equal(opens + 1, closed.Opens());
        Assert.Null(typeof(FileSessionClient.ClosedState).GetMethod("Read"));
        Assert.Null(typeof(FileSessionClient.OpenedState).GetMethod("Open"));
    }

    [Fact]
    public void GeneratedCalls_AllocateNothing_AfterWarmUp()
    {
        using L4Thread me = new();
        CalculatorClient calc = new(me, _server.Calc, s_timeout);
        int failures = 0;
        long bytes = Allocations.OverRounds(i =>
        {
            failures += calc.TryAdd(i, 1, out int sum) == L4Status.Ok && sum == i + 1 ? 0 : 1;
            failures += calc.TryMove(new Point3(i, 0, 0), new Offset2(1, 1), false, out Point3 p) == L4Status.Ok && p.X == i + 1 ? 0 : 1;
            failures += calc.TryIsEven((ulong)i, out bool even) == L4Status.Ok && even == (i % 2 == 0) ? 0 : 1;
        }, warmup: 500, rounds: 5000);
        Assert.Equal(0, failures);
        Assert.Equal(0, bytes);
    }

    [Fact]
    public void GeneratedAsyncCalls_AddNoAllocationToTheCallAsyncTheyWrap_SyncCallsAllocateNothing()
    {
        // Counted in a process of its own, as CallAsync's own proof: continuations run on pool threads. The raw
        // CallAsync through a broker gate allocates by itself today (a few hundred bytes per awaited call, unlike a
        // direct link's): the generated layer must add nothing to it.
        using ChildProcess caller = ChildProcess.Start("contract-async-alloc", _server.Broker.SocketPath, "3000");
        string[] line = caller.WaitForLine("ALLOC", 60_000).Split(' ');
        Assert.Equal("0", line[4]); // no call failed
        double generated = double.Parse(line[1], System.Globalization.CultureInfo.InvariantCulture);
        double raw = double.Parse(line[2], System.Globalization.CultureInfo.InvariantCulture);
        double sync = double.Parse(line[3], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(generated <= raw + 8, $"generated AddAsync: {generated} B per call, the raw CallAsync it wraps: {raw} B");
        Assert.True(sync < 1, $"generated TryAdd: {sync} B per call");
    }

    private static void AssertRefused(IpcResult reply, Span<ulong> mr, L4Status status)
    {
        Assert.Equal(L4Status.Ok, reply.Status);
        Assert.Equal(SystemProtocol.ContractError, reply.Tag.Protocol);
        Assert.Equal((ulong)status, mr[0]);
    }

    /// <summary>A broker and the contract server child, shared by the tests of the class (each test uses its own threads: its own links and sessions).</summary>
    public sealed class Server : IAsyncLifetime
    {
        private L4Task? _task;
        private ChildProcess? _child;

        public BrokerProcess Broker { get; } = new();

        public Gate Calc { get; private set; } = null!;

        public Gate File { get; private set; } = null!;

        public L4Task Client => _task!;

        public async Task InitializeAsync()
        {
            try
            {
                _child = ChildProcess.Start("contract-server", Broker.SocketPath);
                _child.WaitForLine("READY");
                _task = await Broker.ConnectAsync("contract-client");
                Calc = await _task.Names.QueryAsync<Gate>("contracts/calc", TimeSpan.FromSeconds(10));
                File = await _task.Names.QueryAsync<Gate>("contracts/file", TimeSpan.FromSeconds(10));
            }
            catch
            {
                await DisposeAsync();
                throw;
            }
        }

        public async Task DisposeAsync()
        {
            if (_task is not null)
            {
                await _task.DisposeAsync();
            }

            _child?.Dispose();
            Broker.Dispose();
        }
    }
}
