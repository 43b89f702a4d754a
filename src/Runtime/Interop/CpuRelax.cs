using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace L4Rt.Interop;

/// <summary>The spin-loop hint of the CPU (<c>pause</c> on x86, <c>yield</c> on arm64).</summary>
internal static class CpuRelax
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Pause()
    {
        if (X86Base.IsSupported)
        {
            X86Base.Pause();
        }
        else if (ArmBase.IsSupported)
        {
            ArmBase.Yield();
        }
    }
}
