using System.Runtime.CompilerServices;
using L4Rt.Contracts;
using L4Rt.Ipc;
using L4Rt.Objects;
using Protocol = L4Rt.Protocol;

namespace L4Rt.TestChild;

/// <summary>The server side of the contract tests: generated dispatchers in hand-written server loops.</summary>
internal static partial class Program
{
    private static int? RunContractMode(string[] args) => args[0] switch
    {
        "contract-server" => ContractServer(args[1]),
        "contract-async-alloc" => ContractAsyncAllocations(args[1], Int(args[2])),
        _ => null,
    };

    /// <summary>
    /// Serves <see cref="ICalculator"/> as <c>contracts/calc</c> and <see cref="IFileSession"/> as <c>contracts/file</c>
    /// (label 7 and 8), each on its own thread with its generated dispatcher; prints <c>READY</c>, then serves until killed.
    /// </summary>
    private static int ContractServer(string socket)
    {
        using L4Task task = Join(socket, "contract-server");
        using L4Thread calc = task.CreateThread();
        using L4Thread file = task.CreateThread();
        CalculatorDispatcher.PrepareReceive(calc, task.CreateReceiveWindow(1 << 20));
        FileSessionDispatcher.PrepareReceive(file);
        Gate calcGate = task.Factory.CreateGateAsync(calc, 7).GetAwaiter().GetResult();
        Gate fileGate = task.Factory.CreateGateAsync(file, 8).GetAwaiter().GetResult();
        CalculatorService calculator = new() { Task = task };
        calculator.SelfGate = new Gate(task, calcGate.MapToAsync(task.Self, Protocol.CapRights.Send | Protocol.CapRights.Map).GetAwaiter().GetResult(), Protocol.CapRights.Send | Protocol.CapRights.Map);
        Thread calcLoop = new(() => Serve(calc, (L4Thread t, in IpcResult m) => CalculatorDispatcher.Dispatch(calculator, t, in m))) { IsBackground = true };
        FileSessionService files = new();
        ContractSessions sessions = FileSessionDispatcher.CreateSessions();
        Thread fileLoop = new(() => Serve(file, (L4Thread t, in IpcResult m) => FileSessionDispatcher.Dispatch(files, t, in m, sessions))) { IsBackground = true };
        calcLoop.Start();
        fileLoop.Start();
        task.Names.RegisterAsync("contracts/calc", calcGate).GetAwaiter().GetResult();
        task.Names.RegisterAsync("contracts/file", fileGate).GetAwaiter().GetResult();
        Say("READY");
        calcLoop.Join();
        fileLoop.Join();
        return 0;
    }

    /// <summary>
    /// Calls <c>contracts/calc</c> <paramref name="calls"/> times after a warm-up, without spinning (each call goes through
    /// the futex reactor), three ways: the generated client's <c>AddAsync</c>, the raw <c>CallAsync</c> through the same gate
    /// it wraps, and the generated synchronous <c>TryAdd</c>; prints <c>ALLOC generated raw sync failed</c> in bytes per
    /// call, counted over every thread of this process (nothing else runs here).
    /// </summary>
    private static int ContractAsyncAllocations(string socket, int calls)
    {
        using L4Task task = Join(socket, "contract-async");
        Gate gate = task.Names.QueryAsync<Gate>("contracts/calc", TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        using L4Thread me = new() { SpinNanoseconds = 0 };
        CalculatorClient calc = new(me, gate, L4Timeout.FromMilliseconds(10_000));
        int failed = 0;
        double Measure(Func<int, ValueTask<bool>> call)
        {
            Task Run(int count) => Task.Run(async () =>
            {
                for (int i = 0; i < count; i++)
                {
                    failed += await call(i).ConfigureAwait(false) ? 0 : 1;
                }
            });

            Run(1000).GetAwaiter().GetResult();
            long before = GC.GetTotalAllocatedBytes(precise: true);
            Run(calls).GetAwaiter().GetResult();
            return (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)calls;
        }

        double generated = Measure([AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] async ValueTask<bool> (int i) => await calc.AddAsync(i, 1).ConfigureAwait(false) == i + 1);
        double raw = Measure([AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] async ValueTask<bool> (int i) =>
        {
            me.Utcb.Mr[0] = (ulong)i;
            me.Utcb.Mr[1] = 1;
            return (await me.CallAsync(gate, new MsgTag(CalculatorClient.ProtocolAdd, 2), L4Timeout.FromMilliseconds(10_000)).ConfigureAwait(false)).IsOk;
        });
        double sync = Measure(i => ValueTask.FromResult(calc.TryAdd(i, 1, out int sum) == L4Status.Ok && sum == i + 1));
        Say(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ALLOC {generated:0.00} {raw:0.00} {sync:0.00} {failed}"));
        return 0;
    }

    private delegate MsgTag Dispatch(L4Thread thread, in IpcResult message);

    /// <summary>The loop a hand-written server runs: open wait, then reply-and-wait with what the dispatcher returns; a fault is answered as the hosting integration does.</summary>
    private static void Serve(L4Thread thread, Dispatch dispatch)
    {
        IpcResult message = thread.Wait(L4Timeout.Never);
        while (message.IsOk || message.Status == L4Status.ReceiveTimeout)
        {
            MsgTag reply;
            try
            {
                reply = dispatch(thread, in message);
            }
            catch (InvalidOperationException)
            {
                reply = new MsgTag(SystemProtocol.Exception);
            }

            message = thread.ReplyAndWait(reply, L4Timeout.Never);
        }
    }
}
