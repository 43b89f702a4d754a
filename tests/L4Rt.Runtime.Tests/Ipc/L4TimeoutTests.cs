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
    public void FromTimeSpan_InfiniteTimeSpan_IsNever() => Assert.True(L4Timeout.FromTimeSpan(Timeout.InfiniteTimeSpan).IsNever);

    [Fact]
    public void FromTimeSpan_FiniteAndZero_KeepTheLength()
    {
        Assert.Equal(1_500_000_000, L4Timeout.FromTimeSpan(TimeSpan.FromMilliseconds(1500)).Nanoseconds);
        Assert.Equal(L4Timeout.Zero, L4Timeout.FromTimeSpan(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => L4Timeout.FromTimeSpan(TimeSpan.FromSeconds(-2)));
    }

    [Fact]
    public void FromSeconds_IsTheSameAsTheTimeSpanOfThoseSeconds()
    {
        Assert.Equal(5_000_000_000, L4Timeout.FromSeconds(5).Nanoseconds);
        Assert.Equal(L4Timeout.FromTimeSpan(TimeSpan.FromSeconds(5)), L4Timeout.FromSeconds(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => L4Timeout.FromSeconds(-1));
        Assert.Throws<OverflowException>(() => L4Timeout.FromSeconds(long.MaxValue));
    }

    [Fact]
    public void ToTimeSpan_RoundTripsSetupTimeouts()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), L4Timeout.FromSeconds(5).ToTimeSpan());
        Assert.Equal(Timeout.InfiniteTimeSpan, L4Timeout.Never.ToTimeSpan());
        Assert.Equal(TimeSpan.Zero, L4Timeout.Zero.ToTimeSpan());
    }

    [Fact]
    public void FromNanoseconds_Negative_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => L4Timeout.FromNanoseconds(-2));

    [Fact]
    public void DeadlineFrom_Never_IsUnbounded() => Assert.Equal(long.MaxValue, L4Timeout.Never.DeadlineFrom(12345));

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(-1L, -1L)]
    [InlineData(long.MinValue, -1L)]
    [InlineData(7L, 7L)]
    [InlineData(long.MaxValue, long.MaxValue)]
    public void FromEncoded_TakesAnyValue_AndInvertsNanoseconds(long encoded, long nanoseconds)
    {
        L4Timeout timeout = L4Timeout.FromEncoded(encoded);
        Assert.Equal(nanoseconds, timeout.Nanoseconds);
        Assert.Equal(encoded == 0, timeout.IsZero);
        Assert.Equal(encoded < 0, timeout.IsNever);
        Assert.Equal(timeout, L4Timeout.FromEncoded(timeout.Nanoseconds));
    }
}
