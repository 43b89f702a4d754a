using System.Runtime.CompilerServices;

namespace L4Rt.Tests.Support;

internal static class TestSetup
{
    /// <summary>Tests block threads while partners run; give the pool room so nothing waits on thread injection.</summary>
    [ModuleInitializer]
    internal static void Initialize() => ThreadPool.SetMinThreads(32, 32);
}
