using System.Runtime.InteropServices;

namespace L4Rt.Memory;

/// <summary>A 32-bit word in unmovable private memory, for a futex that no other process sees (sleep, abort).</summary>
internal sealed unsafe class PrivateWord : IDisposable
{
    private int* _word = (int*)NativeMemory.AllocZeroed(sizeof(int));

    internal ref int Value => ref *_word;

    /// <summary>The word's address (what a thread blocked on it shows in /proc; tests).</summary>
    internal nint Address => (nint)_word;

    public void Dispose()
    {
        int* word = _word;
        _word = null;
        if (word != null)
        {
            NativeMemory.Free(word);
        }
    }
}
