using L4Rt.Objects;

namespace L4Rt.Samples.Echo;

/// <summary>The server's implementation of <see cref="IEcho"/>: MR0 + 1, the other words as they came; and the rights of a gate it is sent.</summary>
internal sealed class IncrementService : IEcho
{
    public EchoWords Increment(EchoWords message)
    {
        message[0]++;
        return message;
    }

    public ulong RightsOf(Gate gate)
    {
        ulong rights = (ulong)gate.Rights;
        gate.DeleteAsync().GetAwaiter().GetResult(); // the mapped capability was only lent for the question: give the slot back
        return rights;
    }
}
