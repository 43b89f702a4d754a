namespace L4Rt.Samples.Echo;

/// <summary>The server's implementation of <see cref="IEcho"/>: MR0 + 1, the other words as they came.</summary>
internal sealed class IncrementService : IEcho
{
    public EchoWords Increment(EchoWords message)
    {
        message[0]++;
        return message;
    }
}
