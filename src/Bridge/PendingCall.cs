using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.Collections;
using L4Rt.Ipc;

namespace L4Rt.Bridge;

/// <summary>
/// One call in flight through a bridge, awaited by the L4 thread that forwarded it (an imported gate's, or a proxy gate's
/// at the exporter): the id it travels with, the answer the stream reader fills in (status, reply tag and words — the
/// peer's bytes, checked here), and the event the waiting thread sleeps on. One call at a time, like the thread.
/// </summary>
internal sealed class PendingCall : IDisposable
{
    private readonly ManualResetEventSlim _answered = new(false, spinCount: 0);
    private readonly ulong[] _words = new ulong[MsgTag.MaxWords];
    private ulong _id; // the call awaited (0: none)
    private int _status;
    private MsgTag _tag;

    /// <summary>The answer's status (valid once <see cref="Wait"/> returned true).</summary>
    internal L4Status Status => (L4Status)Volatile.Read(ref _status);

    /// <summary>The reply's tag when <see cref="Status"/> is Ok (words only).</summary>
    internal MsgTag Tag => _tag;

    /// <summary>The reply's words.</summary>
    internal ReadOnlySpan<ulong> Words => _words.AsSpan(0, _tag.Words);

    /// <summary>The flexpages the server wrote, copied back (imported calls only).</summary>
    internal RepeatedField<ByteString>? Memory { get; private set; }

    /// <summary>Starts awaiting call <paramref name="id"/> (not 0).</summary>
    internal void Begin(ulong id)
    {
        _answered.Reset();
        Memory = null;
        Volatile.Write(ref _id, id);
    }

    /// <summary>
    /// The peer's answer to call <paramref name="id"/> (ignored for a call no longer awaited). An Ok answer whose tag does
    /// not decode to words only, or says another number of words than came, counts as <see cref="L4Status.ProtocolViolation"/>.
    /// </summary>
    internal void Complete(ulong id, int status, ulong rawTag, RepeatedField<ulong> words, RepeatedField<ByteString>? memory = null)
    {
        if (id != Volatile.Read(ref _id))
        {
            return;
        }

        if (status == (int)L4Status.Ok && (!MsgTag.TryDecode(rawTag, out MsgTag tag) || tag.Items != 0 || tag.Words != words.Count))
        {
            Fail(L4Status.ProtocolViolation);
            return;
        }

        _tag = status == (int)L4Status.Ok && MsgTag.TryDecode(rawTag, out MsgTag ok) ? ok : default;
        words.CopyTo(_words, 0);
        Memory = memory;
        Finish(id, status);
    }

    /// <summary>Ends the awaited call (if any) with <paramref name="status"/>: the link went down, the post failed, …</summary>
    internal void Fail(L4Status status)
    {
        ulong id = Volatile.Read(ref _id);
        if (id != 0)
        {
            _tag = default;
            Finish(id, (int)status);
        }
    }

    /// <summary>
    /// Waits for the answer: without end for a caller that waits without end, else until a little after its own receive
    /// timeout (so a late answer is never taken for a later call's; the id is checked too). False: no answer in time.
    /// </summary>
    internal bool Wait(L4Timeout remaining)
    {
        bool answered;
        try
        {
            answered = _answered.Wait(remaining.IsNever ? Timeout.Infinite : (int)Math.Min(int.MaxValue, (remaining.Nanoseconds / 1_000_000) + 50));
        }
        catch (ObjectDisposedException)
        {
            answered = false;
        }

        Interlocked.Exchange(ref _id, 0);
        return answered;
    }

    /// <summary>
    /// The remote side timed out at the caller's deadline: sleeps until that deadline (plus a millisecond), so the local
    /// caller's own timer ends its wait and it sees <c>ReceiveTimeout</c>, as locally, not a dropped reply.
    /// </summary>
    internal static void SleepUntil(long took, L4Timeout remaining)
    {
        if (remaining.IsNever)
        {
            return;
        }

        TimeSpan left = TimeSpan.FromTicks(remaining.Nanoseconds / 100) - Stopwatch.GetElapsedTime(took) + TimeSpan.FromMilliseconds(1);
        if (left > TimeSpan.Zero)
        {
            Thread.Sleep(left < TimeSpan.FromSeconds(5) ? left : TimeSpan.FromSeconds(5));
        }
    }

    public void Dispose() => _answered.Dispose();

    private void Finish(ulong id, int status)
    {
        Volatile.Write(ref _status, status);
        if (Interlocked.CompareExchange(ref _id, 0, id) == id)
        {
            _answered.Set();
        }
    }
}
