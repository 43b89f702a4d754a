using L4Rt.Ipc;
using L4Rt.Perf.Shared;

namespace L4Rt.Perf;

internal static partial class Worker
{
    /// <summary>Serves <see cref="IMarshallingBench.Step"/> on a direct link, unmarshalling and marshalling in <paramref name="style"/>.</summary>
    private static int MarshalEcho(string path, MarshallingStyle style)
    {
        MarshallingBench impl = new();
        return Serve(path, L4Thread.DefaultSpinNanoseconds, (server, msg) => MarshallingStyles.Serve(style, impl, server, msg));
    }
}
