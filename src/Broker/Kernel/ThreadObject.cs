using L4Rt.Memory;
using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// A receiving thread: its doorbell region (mapped here so the broker can mark it dead) and the index space
/// of its endpoints (gate links and IRQs), which the broker allocates.
/// </summary>
internal sealed class ThreadObject(long id, TaskObject creator, DoorbellRegion doorbell) : KernelObject(id, creator)
{
    private readonly Stack<int> _freeIndices = new();
    private int _highWater;

    internal override CapKind Kind => CapKind.Thread;

    internal DoorbellRegion Doorbell { get; } = doorbell;

    internal List<GateObject> Gates { get; } = [];

    internal List<IrqObject> Irqs { get; } = [];

    internal int AllocateIndex()
    {
        if (_freeIndices.Count > 0)
        {
            return _freeIndices.Pop();
        }

        if (_highWater >= DoorbellLayout.MaxLinks)
        {
            throw new L4RtException(L4Status.QuotaExceeded, $"thread {Id} receives through at most {DoorbellLayout.MaxLinks} endpoints");
        }

        return _highWater++;
    }

    internal void FreeIndex(int index) => _freeIndices.Push(index);
}
