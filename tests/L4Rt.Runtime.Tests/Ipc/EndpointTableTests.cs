using L4Rt.Ipc;

namespace L4Rt.Tests.Ipc;

/// <summary>A receiving thread's table of endpoints, without processes or regions.</summary>
public class EndpointTableTests
{
    [Fact]
    public void TryReserve_PastTheInitialSize_GrowsAndKeepsEveryEntry()
    {
        EndpointTable<string> table = new(initialSize: 2, capacity: 64);
        string?[] first = table.Slots;
        for (int i = 0; i < 5; i++)
        {
            Assert.True(table.TryReserve(out int index));
            Assert.Equal(i, index);
            table.Publish(index, $"e{i}");
        }

        Assert.NotSame(first, table.Slots); // grown by copy: a reader holding the old array still sees valid entries
        Assert.Equal<string?>(["e0", "e1"], first.AsEnumerable());
        Assert.Equal(5, table.Count);
        Assert.Equal(5, table.HighWater);
        Assert.Equal("e4", table.Slots[4]);
    }

    [Fact]
    public void TryReserve_AtCapacity_FailsUntilAnIndexIsFreed()
    {
        EndpointTable<string> table = new(initialSize: 4, capacity: 4);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(table.TryReserve(out int index));
            table.Publish(index, $"e{index}");
        }

        Assert.False(table.TryReserve(out _));
        table.Remove(2, "e2");
        Assert.False(table.TryReserve(out _)); // removed, but not yet freed (the mapping may still be in use)
        table.Free(2);
        Assert.True(table.TryReserve(out int reused));
        Assert.Equal(2, reused);
    }

    [Fact]
    public void TryInstall_AtAnIndexChosenElsewhere_GrowsEnoughAndRefusesTakenOrOutOfRange()
    {
        EndpointTable<string> table = new(initialSize: 2, capacity: 4096);
        Assert.True(table.TryInstall(1000, "far"));
        Assert.Equal("far", table.Slots[1000]);
        Assert.Equal(1001, table.HighWater);
        Assert.False(table.TryInstall(1000, "again"));
        Assert.False(table.TryInstall(4096, "beyond"));
        Assert.False(table.TryInstall(-1, "negative"));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Remove_ADifferentEntryAtTheIndex_LeavesItAlone()
    {
        EndpointTable<string> table = new(initialSize: 4, capacity: 4);
        Assert.True(table.TryInstall(0, "current"));
        table.Remove(0, "stale");
        Assert.Equal("current", table.Slots[0]);
        table.Remove(0, "current");
        Assert.Null(table.Slots[0]);
        Assert.Same(table.Slots, table.Snapshot());
    }
}
