using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Ipc;

/// <summary>Exception IPC: an unhandled exception on a thread that opted in reaches its handler gate before the task ends.</summary>
[Collection(ProcessCollection.Name)]
public class ExceptionReportTests
{
    [Fact]
    public async Task UnhandledException_OnAnOptedInThread_ReachesTheHandler_BeforeTheProcessEnds()
    {
        using BrokerProcess broker = new();
        await using L4Task supervisor = await broker.ConnectAsync("supervisor");
        using L4Thread handler = await Handler(supervisor);
        using ChildProcess child = ChildProcess.Start("throw-reported", broker.SocketPath, "sup/exceptions", "opt-in");
        IpcResult received = handler.Wait(L4Timeout.FromSeconds(30));
        Assert.True(received.IsOk, received.ToString());
        Assert.Equal(SystemProtocol.Exception, received.Tag.Protocol);
        Assert.True(ExceptionReport.TryRead(handler.Utcb, received.Tag, out ExceptionReport report));
        Assert.Equal(("System.InvalidOperationException", "the worker's disk is on fire: ünïcödé", "worker-7"), (report.Type, report.Message, report.ThreadName));
        Assert.True(report.ThreadId > 0);
        Assert.False(child.HasExited); // it waits for the handler's reply
        Assert.Equal(L4Status.Ok, handler.Reply(new MsgTag(SystemProtocol.Exception)));
        Assert.True(child.WaitForExit(30_000));
        Assert.NotEqual(0, child.ExitCode); // the exception still ends the process
    }

    [Fact]
    public async Task UnhandledException_OnAThreadThatDidNotOptIn_ReportsNothing()
    {
        using BrokerProcess broker = new();
        await using L4Task supervisor = await broker.ConnectAsync("supervisor");
        using L4Thread handler = await Handler(supervisor);
        using ChildProcess child = ChildProcess.Start("throw-reported", broker.SocketPath, "sup/exceptions", "no");
        child.WaitForLine("THROWING");
        Assert.True(child.WaitForExit(30_000));
        Assert.NotEqual(0, child.ExitCode);
        Assert.Equal(L4Status.ReceiveTimeout, handler.Wait(L4Timeout.Zero).Status);
    }

    [Fact]
    public void Report_LongStrings_AreCutToFit_AndHostileLengthsAreRefused()
    {
        Utcb utcb = new();
        ExceptionReport report = new(new string('T', 500), new string('m', 2000), 12, new string('n', 300));
        MsgTag tag = report.Write(utcb);
        Assert.Equal(MsgTag.MaxWords, tag.Words);
        Assert.True(ExceptionReport.TryRead(utcb, tag, out ExceptionReport read));
        Assert.Equal((new string('T', ExceptionReport.MaxTypeBytes), new string('n', ExceptionReport.MaxThreadNameBytes), 12), (read.Type, read.ThreadName, read.ThreadId));
        Assert.StartsWith("mmm", read.Message, StringComparison.Ordinal);

        utcb.Mr[2] = 10_000; // a message length past the words sent
        Assert.False(ExceptionReport.TryRead(utcb, tag, out _));
        Assert.False(ExceptionReport.TryRead(utcb, new MsgTag(SystemProtocol.Exception, 2), out _));
        Assert.False(ExceptionReport.TryRead(utcb, new MsgTag(SystemProtocol.PageFault, 8), out _));
    }

    /// <summary>The supervisor's handler thread, behind a gate registered as <c>sup/exceptions</c>.</summary>
    private static async Task<L4Thread> Handler(L4Task supervisor)
    {
        L4Thread handler = await supervisor.CreateThreadAsync();
        Gate gate = await supervisor.Factory.CreateGateAsync(handler, 5);
        await supervisor.Names.RegisterAsync("sup/exceptions", gate);
        return handler;
    }
}
