using L4Rt.Protocol;

namespace L4Rt.Tests.Properties;

/// <summary>
/// Sequences of kernel defects, run through the same checks as <see cref="KernelPropertyTests"/> and kept as plain
/// tests, shrunk by hand to the steps that matter: each failed before its fix. Picks (#n) are positions among the acting task's capabilities of
/// the kind the request takes, in slot order (see <see cref="KernelOp"/>); each task starts with its task capability
/// in slot 0, its root factory in slot 1 and the name service in slot 2.
/// </summary>
public sealed class KernelRegressionTests
{
    [Fact]
    public void Grant_WithFewerRights_RevokesWhatWasDerivedWithTheRightsItDrops()
    {
        // A thread's original (all rights) is mapped, all rights, into slot 5; then granted through a gate of the
        // same task with only Send. Before the fix the moved capability kept the mapped one as its child: a path from
        // Send to All, rights growing along it.
        KernelRun.Check(2, [
            new(OpKind.CreateThread, 0, 0, 0, CapRights.None, 0, false),         // slot 3
            new(OpKind.CreateGate, 0, 0, 0, CapRights.None, 0, false),           // slot 4, bound to the thread
            new(OpKind.Map, 0, 3, 0, CapRights.All, 0, false),                   // the thread, into t0 itself: slot 5
            new(OpKind.Send, 0, 0, 3, CapRights.Send, 0, true),                  // grant slot 3 with Send only
            new(OpKind.CapInfo, 0, 0, 0, CapRights.None, 0, false),
        ]);
    }

    [Fact]
    public void Registrant_WhoGrantedTheRegisteredCapabilityAway_TakesItsNameAlongWhenItDies()
    {
        // t0 gets t1's gate from the name service, registers it as svc/a, grants it to t2 through t2's gate and dies.
        // The entry's capability was derived from the one granted, so it now hung below t2's: before the fix the name
        // outlived its registrant (and no task could unregister it). Spotted while writing the model; the random
        // sequences did not reach it (three steps in a row that each pick one case among many).
        KernelRun.Check(3, [
            .. KernelOp.Prelude(3),
            new(OpKind.NameQuery, 0, 0, 1, CapRights.None, 0, false),            // registered #1, gate/1 → t0 slot 5
            new(OpKind.NameRegister, 0, 5, -2, CapRights.All, 0, false),         // slot 5 as svc/a
            new(OpKind.NameQuery, 0, 0, 2, CapRights.None, 0, false),            // registered #2, gate/2 (svc/a sorts after it) → t0 slot 6
            new(OpKind.Send, 0, 2, 5, CapRights.All, 0, true),                   // grant slot 5 through t2's gate
            new(OpKind.Kill, 0, 0, 0, CapRights.None, 0, false),
            new(OpKind.NameQuery, 1, 0, -2, CapRights.None, 0, false),           // svc/a (B < 0: the fixed name) is gone
        ]);
    }
}
