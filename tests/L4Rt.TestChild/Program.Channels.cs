namespace L4Rt.TestChild;

internal static partial class Program
{
    /// <summary>Modes of the FIFO channel tests; null when <paramref name="args"/> names none of them.</summary>
    private static int? RunChannelMode(string[] args) => args[0] switch
    {
        _ => null,
    };
}
