using CsCheck;
using L4Rt.Protocol;

namespace L4Rt.Tests.Properties;

/// <summary>
/// One step of a generated sequence: which task acts, what it asks, and the choices it makes. <see cref="A"/> and
/// <see cref="B"/> pick capabilities by position among what the task holds when the step runs (see
/// <see cref="KernelRun"/>), so a sequence stays meaningful when shrinking drops steps before it: −1 is a slot that
/// holds nothing, −2 any capability whatever its kind, 0 and up one of the kind the request expects.
/// </summary>
internal readonly record struct KernelOp(OpKind Kind, int Task, int A, int B, CapRights Rights, int N, bool Flag)
{
    /// <summary>The names steps register and query: few, so that they collide; a <see cref="Prelude"/> registers gate/N and task/N.</summary>
    internal static readonly string[] Names = ["svc/a", "svc/b", "gate/0", "gate/1", "gate/2", "gate/3", "task/0", "task/1", "task/2", "task/3"];

    /// <summary>Steps in proportion: mostly what builds and moves capabilities, some deaths and rejoins.</summary>
    private static readonly Gen<OpKind> Kinds = Gen.Frequency(
        (6, OpKind.CreateThread),
        (6, OpKind.CreateGate),
        (2, OpKind.CreateIrq),
        (3, OpKind.CreateDataspace),
        (2, OpKind.CreateChannel),
        (3, OpKind.CreateFactory),
        (6, OpKind.NameRegister),
        (6, OpKind.NameQuery),
        (2, OpKind.NameUnregister),
        (8, OpKind.Map),
        (8, OpKind.Send),
        (6, OpKind.Delete),
        (1, OpKind.CapInfo),
        (1, OpKind.FactoryUsage),
        (2, OpKind.Kill),
        (1, OpKind.Join));

    private static readonly Gen<int> Picks = Gen.Int[-2, 12];

    /// <summary>Often every right (so capabilities can travel on), else any subset.</summary>
    private static readonly Gen<CapRights> RightSets = Gen.Frequency(
        (2, Gen.Const(CapRights.All)),
        (3, Gen.Int[0, (int)CapRights.All].Select(r => (CapRights)r)));

    /// <summary>A step of one of <paramref name="tasks"/> tasks.</summary>
    internal static Gen<KernelOp> Generate(int tasks) =>
        Gen.Select(Kinds, Gen.Int[0, tasks - 1], Picks, Picks, RightSets, Gen.Int[0, 3], Gen.Bool, (kind, task, a, b, rights, n, flag) => new KernelOp(kind, task, a, b, rights, n, flag));

    /// <summary>
    /// Steps that give each task a thread and a gate and publish the gate and the task's own capability (gate/N,
    /// task/N), so that sequences start where capabilities can travel between tasks. Ordinary steps: shrinking may drop them.
    /// </summary>
    internal static IEnumerable<KernelOp> Prelude(int tasks)
    {
        for (int task = 0; task < tasks; task++)
        {
            yield return new(OpKind.CreateThread, task, 0, 0, CapRights.None, 0, false); // slot 3
            yield return new(OpKind.CreateGate, task, 0, 0, CapRights.None, 0, false); // slot 4
            yield return new(OpKind.NameRegister, task, 4, task, CapRights.All, 0, false); // the gate as gate/N
            yield return new(OpKind.NameRegister, task, 0, task + 4, CapRights.All, 0, false); // slot 0, the task, as task/N
        }
    }

    /// <summary>
    /// Steps after a <see cref="Prelude"/> that give each task the next task's gate and task capability from the name
    /// service (slots 5 and 6), so that sends and maps reach other tasks from the start.
    /// </summary>
    internal static IEnumerable<KernelOp> Acquaint(int tasks)
    {
        for (int task = 0; task < tasks; task++)
        {
            int next = (task + 1) % tasks;
            yield return new(OpKind.NameQuery, task, 0, next, CapRights.None, 0, false); // gate/next: registered names sort gate/*, then task/*
            yield return new(OpKind.NameQuery, task, 0, tasks + next, CapRights.None, 0, false); // task/next
        }
    }

    public override string ToString() => Kind switch
    {
        OpKind.CreateThread => $"t{Task} CreateThread(factory #{A})",
        OpKind.CreateGate => $"t{Task} CreateGate(factory #{A}, thread #{B})",
        OpKind.CreateIrq => $"t{Task} CreateIrq(factory #{A}, thread #{B}, {(Flag ? "accepted" : "refused by the receiver")})",
        OpKind.CreateDataspace => $"t{Task} CreateDataspace(factory #{A}, {N} pages)",
        OpKind.CreateChannel => $"t{Task} CreateChannel(factory #{A}{(N == 0 ? ", bad capacity" : "")})",
        OpKind.CreateFactory => $"t{Task} CreateFactory(factory #{A}, {(Flag && N == 0 ? -1 : N)} pages, {B & 3} objects)",
        OpKind.NameRegister => $"t{Task} NameRegister(cap #{A}, {Rights}, {Name})",
        OpKind.NameQuery => $"t{Task} NameQuery({(B >= 0 ? $"registered #{B}" : Name)})",
        OpKind.NameUnregister => $"t{Task} NameUnregister({(B >= 0 ? $"registered #{B}" : Name)})",
        OpKind.Map => $"t{Task} Map(cap #{A}, to task #{B}, {Rights})",
        OpKind.Send => $"t{Task} Send(gate #{A}, {(Flag ? "grant" : "map")} cap #{B}, {Rights})",
        OpKind.Delete => $"t{Task} Delete(cap #{A})",
        OpKind.CapInfo => $"t{Task} CapInfo(cap #{A})",
        OpKind.FactoryUsage => $"t{Task} FactoryUsage(factory #{A})",
        OpKind.Kill => $"t{Task} Kill",
        _ => $"t{Task} Join",
    };

    /// <summary>
    /// The name a name step uses, chosen by <see cref="B"/> (no name step takes a second capability): a register always
    /// uses it; a query or unregister only when <see cref="B"/> is negative, else it picks among the names registered then.
    /// </summary>
    internal string Name => Names[(B + 2) % Names.Length];
}
