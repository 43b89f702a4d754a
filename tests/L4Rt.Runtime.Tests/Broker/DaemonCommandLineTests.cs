using System.Globalization;
using System.Reflection;
using L4Rt.Broker;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>
/// l4rtd's command line as a real process: help, refused options, one line per start-up error, documented exit codes.
/// Every run also names a private socket and this process as its parent, so a broker that starts by mistake binds
/// nothing shared and dies with the test.
/// </summary>
[Collection(ProcessCollection.Name)]
public class DaemonCommandLineTests
{
    private static readonly string s_parent = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Help_ListsEverySettingAndTheExitCodes_WithoutStarting(string help)
    {
        using TempDir dir = new();
        (int code, string stdout, string stderr) = ToolProcess.Broker(15_000, "--SocketPath", dir.Socket("broker.sock"), "--ParentPid", s_parent, help);
        Assert.True(code == 0, $"exit code {code}:\n{stdout}\n{stderr}");
        Assert.Equal("", stderr);
        foreach (PropertyInfo setting in typeof(BrokerOptions).GetProperties())
        {
            Assert.Contains("--" + setting.Name, stdout, StringComparison.Ordinal);
        }

        Assert.Contains("Exit codes:", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("listening on", stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.Socket("broker.sock")));
    }

    [Theory]
    [InlineData(new[] { "--SocketPth", "/tmp/nowhere.sock" }, "unknown setting '--SocketPth'; did you mean '--SocketPath'?")]
    [InlineData(new[] { "--taskquotabites", "5" }, "did you mean '--TaskQuotaBytes'?")]
    [InlineData(new[] { "--Faults:Kernl:0", "Hello" }, "did you mean '--Faults:Kernel'?")]
    [InlineData(new[] { "--NoSuchThingAtAll", "1" }, "unknown setting '--NoSuchThingAtAll'")]
    [InlineData(new[] { "-v" }, "unknown option '-v'")]
    [InlineData(new[] { "start" }, "unexpected argument 'start'")]
    [InlineData(new[] { "--MaxTasks" }, "'--MaxTasks' needs a value")]
    public void BadCommandLine_IsOneLineOnStderr_ExitCode2(string[] args, string expected)
    {
        using TempDir dir = new();
        (int code, string stdout, string stderr) = ToolProcess.Broker(15_000, ["--SocketPath", dir.Socket("broker.sock"), "--ParentPid", s_parent, .. args]);
        Assert.True(code == 2, $"exit code {code}:\n{stdout}\n{stderr}");
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"one line on stderr, got:\n{stderr}");
        Assert.StartsWith("l4rtd: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.Equal("", stdout);
    }

    [Theory]
    [InlineData("--socket", "PATH")]
    [InlineData("--socket=PATH")]
    [InlineData("/SocketPath", "PATH")]
    [InlineData("SocketPath=PATH")]
    [InlineData("--AllowedUids:0", "1000", "--allowedUids:1", "1001")]
    [InlineData("--Faults:Session:0", "Hello", "--Faults:AcceptEmfile", "1")]
    [InlineData("--Logging:LogLevel:L4Rt.Broker.BrokerService", "Debug", "--Environment", "Production")]
    public void Check_FormsTheConfigurationProviderReads_AreAccepted(params string[] args)
    {
        Assert.Null(BrokerCommandLine.Check(args, out string text));
        Assert.Equal("", text);
    }

    [Fact]
    public void StartupFailure_ValueOfTheWrongType_IsOneLineWithoutStackTrace_ExitCode1()
    {
        using TempDir dir = new();
        (int code, string stdout, string stderr) = ToolProcess.Broker(30_000, "--SocketPath", dir.Socket("broker.sock"), "--ParentPid", s_parent, "--TaskQuotaBytes", "lots");
        Assert.True(code == 1, $"exit code {code}:\n{stdout}\n{stderr}");
        Assert.Equal("l4rtd: Failed to convert configuration value 'lots' at 'TaskQuotaBytes' to type 'System.Int64'.", stderr.TrimEnd('\n'));
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void StartupFailure_LiveBrokerOnThePath_IsOneLineWithoutStackTrace_ExitCode1()
    {
        using BrokerProcess first = new();
        (int code, string stdout, string stderr) = ToolProcess.Broker(30_000, "--SocketPath", first.SocketPath, "--ParentPid", s_parent);
        Assert.True(code == 1, $"exit code {code}:\n{stdout}\n{stderr}");
        Assert.Equal($"l4rtd: another broker is live on {first.SocketPath}; stop it first or choose another --SocketPath", stderr.TrimEnd('\n'));
        Assert.DoesNotContain("Exception", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        Assert.False(first.HasExited);
    }
}
