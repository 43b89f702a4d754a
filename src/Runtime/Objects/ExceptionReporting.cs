using L4Rt.Ipc;

namespace L4Rt.Objects;

/// <summary>
/// Exception IPC: a thread opts in with <see cref="OptIn"/>, naming its exception handler gate; should an exception go
/// unhandled on that thread, the runtime reports it (<see cref="ExceptionReport"/>: type, message, thread) to the handler
/// as a <see cref="SystemProtocol.Exception"/> call, and waits for the handler's reply (at most the timeout given) before
/// the process goes on ending as .NET ends it. Threads that did not opt in report nothing.
/// </summary>
/// <remarks>
/// The report is made from <see cref="AppDomain.UnhandledException"/>, on the dying thread, through a sending thread of
/// its own (its link set up then: a broker round trip). An exception that a task (<see cref="Task"/>) captures is not
/// unhandled; only one that ends a thread is.
/// </remarks>
public static class ExceptionReporting
{
    [ThreadStatic]
    private static Registration? t_current;

    private static int s_hooked;

    /// <summary>
    /// Opts the calling thread in: an unhandled exception on it is reported to <paramref name="handler"/>, which has
    /// <paramref name="timeout"/> to reply. Dispose the result to opt out again (a later opt-in on the thread replaces it).
    /// </summary>
    public static IDisposable OptIn(Gate handler, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        if (Interlocked.Exchange(ref s_hooked, 1) == 0)
        {
            AppDomain.CurrentDomain.UnhandledException += Report;
        }

        return t_current = new Registration(handler, L4Timeout.FromTimeSpan(timeout));
    }

    private static void Report(object sender, UnhandledExceptionEventArgs args)
    {
        if (t_current is not { IsActive: true } registration)
        {
            return;
        }

        Thread thread = Thread.CurrentThread;
        ExceptionReport report = new(args.ExceptionObject.GetType().FullName ?? "?", (args.ExceptionObject as Exception)?.Message ?? "", thread.ManagedThreadId, thread.Name ?? "");
        try
        {
            using L4Thread reporter = new();
            _ = reporter.Call(registration.Handler, report.Write(reporter.Utcb), registration.Timeout); // whatever the outcome, the process ends
        }
        catch (Exception e) when (e is L4RtException or ObjectDisposedException)
        {
            // The process is ending anyway: a report that cannot be made must not mask the exception that ends it.
        }
    }

    private sealed class Registration(Gate handler, L4Timeout timeout) : IDisposable
    {
        internal Gate Handler { get; } = handler;

        internal L4Timeout Timeout { get; } = timeout;

        internal bool IsActive { get; private set; } = true;

        public void Dispose() => IsActive = false;
    }
}
