using L4Rt.Ipc;

namespace L4Rt.Tests.Ipc;

public class L4TimeoutTests
{
    [Fact]
    public void Kinds_AreDistinct()
    {
        Assert.True(L4Timeout.Zero.IsZero);
        Assert.False(L4Timeout.Zero.IsNever);
        Assert.True(L4Timeout.Never.IsNever);
        Assert.False(L4Timeout.FromMilliseconds(5).IsZero);
        Assert.False(L4Timeout.FromMilliseconds(5).IsNever);
        Assert.Equal(5_000_000, L4Timeout.FromMilliseconds(5).Nanoseconds);
        Assert.Equal(L4Timeout.Zero, L4Timeout.FromMicroseconds(0));
    }

    [Fact]
    public void From_InfiniteTimeSpan_IsNever() => Assert.True(L4Timeout.From(Timeout.InfiniteTimeSpan).IsNever);

    [Fact]
    public void FromNanoseconds_Negative_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => L4Timeout.FromNanoseconds(-2));

    [Fact]
    public void DeadlineFrom_Never_IsUnbounded() => Assert.Equal(long.MaxValue, L4Timeout.Never.DeadlineFrom(12345));
}
