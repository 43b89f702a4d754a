namespace L4Rt.Interop;

/// <summary>Every native call of the runtime (all in libc), one nested class per concern, one file per call.</summary>
internal static partial class Libc
{
    internal static class Libraries
    {
        internal const string Libc = "libc";
    }
}
