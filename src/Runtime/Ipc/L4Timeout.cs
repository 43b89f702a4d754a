namespace L4Rt.Ipc;

/// <summary>
/// An IPC timeout: <see cref="Zero"/> (never block: fail if the partner is not ready), finite, or
/// <see cref="Never"/> (wait as long as it takes). Send and receive phases take separate timeouts.
/// </summary>
public readonly struct L4Timeout : IEquatable<L4Timeout>
{
    private readonly long _nanoseconds; // 0: zero, -1: never, > 0: finite

    private L4Timeout(long nanoseconds) => _nanoseconds = nanoseconds;

    /// <summary>Do not block at all.</summary>
    public static L4Timeout Zero => default;

    /// <summary>Block until the operation completes (or the partner dies).</summary>
    public static L4Timeout Never => new(-1);

    /// <summary>True for <see cref="Zero"/>.</summary>
    public bool IsZero => _nanoseconds == 0;

    /// <summary>True for <see cref="Never"/>.</summary>
    public bool IsNever => _nanoseconds < 0;

    /// <summary>The finite length in nanoseconds; -1 for <see cref="Never"/>.</summary>
    public long Nanoseconds => _nanoseconds;

    /// <summary>A finite timeout of <paramref name="nanoseconds"/> (0 gives <see cref="Zero"/>).</summary>
    public static L4Timeout FromNanoseconds(long nanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nanoseconds);
        return new(nanoseconds);
    }

    /// <summary>
    /// The inverse of <see cref="Nanoseconds"/> for a value that travelled (in shared memory, on a wire): 0 gives
    /// <see cref="Zero"/>, any negative value <see cref="Never"/>, a positive one that many nanoseconds. Total: no value
    /// is invalid, so a peer's bytes need no further check.
    /// </summary>
    public static L4Timeout FromEncoded(long value) => new(value < 0 ? -1 : value);

    /// <summary>A finite timeout in microseconds.</summary>
    public static L4Timeout FromMicroseconds(long microseconds) => FromNanoseconds(checked(microseconds * 1_000));

    /// <summary>A finite timeout in milliseconds.</summary>
    public static L4Timeout FromMilliseconds(long milliseconds) => FromNanoseconds(checked(milliseconds * 1_000_000));

    /// <summary>A finite timeout in seconds.</summary>
    public static L4Timeout FromSeconds(long seconds) => FromNanoseconds(checked(seconds * 1_000_000_000));

    /// <summary>
    /// A timeout from a <see cref="TimeSpan"/> (as setup calls take): <see cref="Timeout.InfiniteTimeSpan"/> gives
    /// <see cref="Never"/>, <see cref="TimeSpan.Zero"/> gives <see cref="Zero"/>; any other negative span throws.
    /// </summary>
    public static L4Timeout FromTimeSpan(TimeSpan span) =>
        span == Timeout.InfiniteTimeSpan ? Never : FromNanoseconds(checked(span.Ticks * 100));

    /// <summary>
    /// This timeout as a <see cref="TimeSpan"/>, for setup calls (<c>Accept</c>, <c>Connect</c>, broker requests):
    /// <see cref="Never"/> gives <see cref="Timeout.InfiniteTimeSpan"/>; finite lengths round down to 100 ns ticks.
    /// </summary>
    public TimeSpan ToTimeSpan() => IsNever ? Timeout.InfiniteTimeSpan : TimeSpan.FromTicks(_nanoseconds / 100);

    /// <inheritdoc/>
    public bool Equals(L4Timeout other) => _nanoseconds == other._nanoseconds;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is L4Timeout other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _nanoseconds.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => IsNever ? "Never" : IsZero ? "Zero" : $"{_nanoseconds / 1e6:0.###} ms";

    /// <summary>Equality.</summary>
    public static bool operator ==(L4Timeout left, L4Timeout right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(L4Timeout left, L4Timeout right) => !left.Equals(right);

    /// <summary>The Stopwatch timestamp at which this timeout expires, counted from <paramref name="now"/>.</summary>
    internal long DeadlineFrom(long now) =>
        _nanoseconds < 0 ? long.MaxValue : now + Interop.Libc.Futex.NanosToTicks(_nanoseconds);
}
