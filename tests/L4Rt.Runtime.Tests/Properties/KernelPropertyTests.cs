using CsCheck;

namespace L4Rt.Tests.Properties;

/// <summary>
/// Property-based tests of the kernel's invariants (issue 13): random sequences of requests from 2–4 tasks — creations
/// through factories and sub-factories, names, map, map and grant through a gate message's items, delete, death and
/// rejoin, and requests that must be refused — each run against a fresh in-process kernel beside
/// <see cref="KernelModel"/> (see <see cref="KernelRun"/> for what is checked after every step). A failure is shrunk
/// to a short sequence and printed with the steps as the model saw them. docs/properties.md tells how to run more.
/// </summary>
public sealed class KernelPropertyTests
{
    /// <summary>Sequences per property: <c>L4RT_PROPERTY_ITER</c>, else a number that keeps the suite to seconds.</summary>
    private static long Iterations(long otherwise) =>
        long.TryParse(Environment.GetEnvironmentVariable("L4RT_PROPERTY_ITER"), out long n) && n > 0 ? n : otherwise;

    /// <summary>A failure's seed, to run exactly that sequence again (CsCheck prints it).</summary>
    private static string? Seed => Environment.GetEnvironmentVariable("L4RT_PROPERTY_SEED") is { Length: > 0 } seed ? seed : null;

    /// <summary>
    /// 2–4 tasks and up to <paramref name="maxSteps"/> steps; one sequence in four begins bare, one with
    /// <see cref="KernelOp.Prelude"/>, two with the prelude and <see cref="KernelOp.Acquaint"/>.
    /// </summary>
    private static Gen<(int Tasks, KernelOp[] Ops)> Sequences(int maxSteps) =>
        from tasks in Gen.Int[2, 4]
        from prelude in Gen.Int[0, 3]
        from ops in KernelOp.Generate(tasks).Array[1, maxSteps]
        select (tasks, prelude switch
        {
            0 => ops,
            1 => [.. KernelOp.Prelude(tasks), .. ops],
            _ => [.. KernelOp.Prelude(tasks), .. KernelOp.Acquaint(tasks), .. ops],
        });

    [Fact]
    public void AnySequence_OfRequests_KeepsEveryInvariant_AndTheKernelHoldsWhatTheModelHolds() => Property(40, Iterations(400));

    [Fact]
    public void LongSequences_DeepDerivationTrees_KeepEveryInvariant() => Property(150, Iterations(400) / 4);

    /// <summary>
    /// Samples sequences of up to <paramref name="maxSteps"/> steps (single-threaded: the VM's two cores are shared,
    /// and two threads were no faster). On a failure, the shortest failing sequence CsCheck met is minimized further
    /// (<see cref="KernelRun.Minimize"/>) and reported with the steps as they ran.
    /// </summary>
    private static void Property(int maxSteps, long iterations)
    {
        (int Tasks, KernelOp[] Ops)? shortest = null;
        try
        {
            Sequences(maxSteps).Sample(
                (tasks, ops) =>
                {
                    try
                    {
                        KernelRun.Check(tasks, ops);
                    }
                    catch when (shortest is not { } s || ops.Length < s.Ops.Length)
                    {
                        shortest = (tasks, ops);
                        throw;
                    }
                },
                seed: Seed,
                iter: iterations,
                threads: 1,
                print: Print);
        }
        catch (CsCheckException e) when (shortest is { } failing)
        {
            KernelOp[] minimal = KernelRun.Minimize(failing.Tasks, failing.Ops);
            int tasks = Math.Max(2, minimal.Select(op => op.Task).DefaultIfEmpty(0).Max() + 1); // the tasks no step uses are left out too
            string violation = "";
            try
            {
                KernelRun.Check(tasks, minimal);
            }
            catch (Xunit.Sdk.XunitException again)
            {
                violation = again.Message;
            }

            // The kernel numbers objects across tasks, so fewer tasks make another run: if it no longer fails, keep them all.
            if (violation.Length == 0)
            {
                tasks = failing.Tasks;
                try
                {
                    KernelRun.Check(tasks, minimal);
                }
                catch (Xunit.Sdk.XunitException again)
                {
                    violation = again.Message;
                }
            }

            throw new Xunit.Sdk.XunitException($"{e.Message.Split('\n')[0]}\nMinimized to {minimal.Length} steps, {Print((tasks, minimal))}\n{violation}");
        }
    }

    private static string Print((int Tasks, KernelOp[] Ops) sequence) =>
        $"{sequence.Tasks} tasks:\n    {string.Join("\n    ", sequence.Ops)}";
}
