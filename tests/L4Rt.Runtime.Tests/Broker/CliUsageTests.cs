using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>
/// The real <c>l4rt</c> given wrong arguments, against a real broker that holds the names they mention: each
/// is a usage error, one message on stderr naming the argument, exit code 2 — never an exception or SIGABRT.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class CliUsageTests : IClassFixture<CliUsageTests.Service>
{
    private readonly Service _service;

    public CliUsageTests(Service service) => _service = service;

    [Theory]
    [InlineData(new[] { "call", "svc/echo", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47", "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63", "64", "65", "66", "67", "68", "69", "70" }, "argument 'words': at most 63 words")]
    [InlineData(new[] { "call", "svc/echo", "1", "--timeout", "-5" }, "option '--timeout': '-5' is not a timeout")]
    [InlineData(new[] { "call", "svc/echo", "1", "--timeout", "soon" }, "option '--timeout': 'soon' is not a timeout")]
    [InlineData(new[] { "call", "svc/echo", "1", "abc", "3" }, "argument 'words': word 2, 'abc', is not a number")]
    [InlineData(new[] { "call", "svc/echo", "-1" }, "argument 'words': word 1, '-1', is not a number")]
    [InlineData(new[] { "call", "svc/echo", "18446744073709551616" }, "argument 'words': word 1, '18446744073709551616', is not a number")]
    [InlineData(new[] { "call", "svc/echo", "--protocol", "x" }, "option '--protocol': 'x' is not a whole number")]
    [InlineData(new[] { "call", "bad name!" }, "argument 'name': 'bad name!' is not a valid name")]
    [InlineData(new[] { "irq", "trigger", "svc/tick", "--count", "-3" }, "option '--count': '-3' is not a whole number from 1")]
    [InlineData(new[] { "irq", "trigger", "svc/tick", "--count", "many" }, "option '--count': 'many' is not a whole number from 1")]
    public void Command_BadArgument_IsOneUsageErrorOnStderrWithExitCode2(string[] args, string expected)
    {
        (int code, string stdout, string stderr) = ToolProcess.Cli([.. args, "--socket", _service.Broker.SocketPath]);
        Assert.True(code == 2, $"exit code {code} (134 is SIGABRT):\nstdout: {stdout}\nstderr: {stderr}");
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"one message on stderr, got:\n{stderr}");
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Call_63Words_AreAllSentAndTheReplyPrinted()
    {
        Thread serving = CapabilityTests.StartEcho(_service.Thread, 1);
        string[] words = [.. Enumerable.Range(1, 63).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        (int code, string stdout, string stderr) = ToolProcess.Cli(["call", "svc/echo", .. words, "--timeout", "never", "--socket", _service.Broker.SocketPath]);
        Assert.True(serving.Join(30_000));
        Assert.True(code == 0, $"exit code {code}:\n{stdout}\n{stderr}");
        Assert.Contains($"63 word(s): {string.Join(' ', words)}", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Socket_BeforeOrAfterTheCommand_IsTheSameOption()
    {
        (int before, string stdoutBefore, string stderrBefore) = ToolProcess.Cli(["--socket", _service.Broker.SocketPath, "names"]);
        (int after, string stdoutAfter, _) = ToolProcess.Cli(["names", "--socket", _service.Broker.SocketPath]);
        Assert.True(before == 0, $"exit code {before}:\n{stdoutBefore}\n{stderrBefore}");
        Assert.Equal(0, after);
        Assert.Contains("svc/echo", stdoutBefore, StringComparison.Ordinal);
        Assert.Contains("svc/echo", stdoutAfter, StringComparison.Ordinal);
    }

    [Fact]
    public void Trigger_NameOfAGate_IsOneBrokerErrorWithExitCode2()
    {
        (int code, string stdout, string stderr) = ToolProcess.Cli(["irq", "trigger", "svc/echo", "--socket", _service.Broker.SocketPath]);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("l4rt: 'svc/echo' names a Gate", stderr.Trim(), StringComparison.Ordinal);
    }

    /// <summary>A broker and a task holding a gate (<c>svc/echo</c>) and an IRQ (<c>svc/tick</c>) for the commands to name.</summary>
    public sealed class Service : IAsyncLifetime
    {
        private L4Task? _task;

        public BrokerProcess Broker { get; } = new();

        public L4Thread Thread { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            try
            {
                _task = await Broker.ConnectAsync("service");
                Thread = await _task.CreateThreadAsync();
                await _task.Names.RegisterAsync("svc/echo", await _task.Factory.CreateGateAsync(Thread, 1));
                await _task.Names.RegisterAsync("svc/tick", await _task.Factory.CreateIrqAsync(Thread, 2));
            }
            catch
            {
                await DisposeAsync(); // xunit does not dispose a fixture that failed to initialise
                throw;
            }
        }

        public async Task DisposeAsync()
        {
            Thread?.Dispose();
            if (_task is not null)
            {
                await _task.DisposeAsync();
            }

            Broker.Dispose();
        }
    }
}
