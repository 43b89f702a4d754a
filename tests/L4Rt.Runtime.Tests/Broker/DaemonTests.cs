using System.Diagnostics;
using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>The daemon's own behaviour: who may connect, its socket file, its shutdown.</summary>
[Collection(ProcessCollection.Name)]
public class DaemonTests
{
    [Fact]
    public async Task Connect_UidNotOnAllowList_IsRefusedWithNoRights()
    {
        uint other = Libc.Process.GetUid() == 12345 ? 12346u : 12345u;
        using BrokerProcess broker = new("--AllowedUids:0", other.ToString(System.Globalization.CultureInfo.InvariantCulture));
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => broker.ConnectAsync());
        Assert.Equal(L4Status.NoRights, e.Status);
        Assert.Contains("may not use this broker", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_OnAPathWithALiveBroker_Refuses_ButReplacesAStaleSocket()
    {
        using BrokerProcess first = new();
        using (ChildlessBroker second = ChildlessBroker.Start(first.SocketPath))
        {
            Assert.True(second.Process.WaitForExit(30_000), "a second broker on a live path must exit");
            Assert.NotEqual(0, second.Process.ExitCode);
            Assert.Contains("another broker is live", second.Output, StringComparison.Ordinal);
        }

        first.Kill(); // leaves its socket file behind: stale
        Assert.True(File.Exists(first.SocketPath));
        using ChildlessBroker third = ChildlessBroker.Start(first.SocketPath);
        Assert.True(third.WaitListening(), third.Output);
        Assert.Contains("stale socket", third.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_TellsClients_RemovesTheSocket_ExitsCleanly()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();
        using L4Thread receiver = await task.CreateThreadAsync();
        IpcResult result = default;
        Thread waiting = new(() => result = receiver.Wait(L4Timeout.Never));
        waiting.Start();
        Thread.Sleep(100);
        Assert.True(broker.Terminate(), "l4rtd did not exit after SIGTERM");
        Assert.True(waiting.Join(5000));
        Assert.True(result.Status is L4Status.BrokerLost or L4Status.DestinationDeleted, $"{result.Status}");
        Assert.True(broker.ExitCode == 0, $"exit code {broker.ExitCode}:\n{broker.Output}");
        Assert.False(File.Exists(broker.SocketPath), $"the socket file must be removed on shutdown:\n{broker.Output}");
        Assert.Contains("l4rtd stopping", broker.Output, StringComparison.Ordinal);
    }

    /// <summary>A broker started directly (not via BrokerProcess, which insists that it starts).</summary>
    private sealed class ChildlessBroker : IDisposable
    {
        private readonly List<string> _output = [];
        private readonly ManualResetEventSlim _listening = new();

        private ChildlessBroker(Process process) => Process = process;

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return string.Join('\n', _output);
                }
            }
        }

        public static ChildlessBroker Start(string socket)
        {
            string dll = typeof(DaemonTests).Assembly.Location.Replace(
                Path.Combine("tests", "L4Rt.Runtime.Tests"), Path.Combine("src", "Broker"), StringComparison.Ordinal).Replace("L4Rt.Runtime.Tests.dll", "l4rtd.dll", StringComparison.Ordinal);
            ProcessStartInfo info = new("dotnet", [dll, "--SocketPath", socket, "--ParentPid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true, RedirectStandardError = true };
            ChildlessBroker broker = new(Process.Start(info)!);
            broker.Process.OutputDataReceived += (_, e) => broker.Add(e.Data);
            broker.Process.ErrorDataReceived += (_, e) => broker.Add(e.Data);
            broker.Process.BeginOutputReadLine();
            broker.Process.BeginErrorReadLine();
            return broker;
        }

        public bool WaitListening() => _listening.Wait(30_000);

        private void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.Add(line);
            }

            if (line.Contains("listening on", StringComparison.Ordinal))
            {
                _listening.Set();
            }
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(true);
                Process.WaitForExit(5000);
            }

            Process.Dispose();
            _listening.Dispose();
        }
    }
}
