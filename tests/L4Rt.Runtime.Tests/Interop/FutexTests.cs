using System.Diagnostics;
using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Tests.Interop;

public unsafe class FutexTests
{
    [Fact]
    public void Wait_ValueAlreadyDifferent_ReturnsValueChangedAtOnce()
    {
        int* word = (int*)NativeMemory.AllocZeroed(4);
        try
        {
            *word = 5;
            Assert.Equal(Libc.FutexWaitResult.ValueChanged, Libc.Futex.Wait(word, 4, -1));
        }
        finally
        {
            NativeMemory.Free(word);
        }
    }

    [Fact]
    public void Wait_FiniteTimeoutAndNoWake_TimesOutAfterTheTimeout()
    {
        int* word = (int*)NativeMemory.AllocZeroed(4);
        try
        {
            Stopwatch clock = Stopwatch.StartNew();
            Assert.Equal(Libc.FutexWaitResult.TimedOut, Libc.Futex.Wait(word, 0, 20_000_000));
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(19), $"returned after {clock.Elapsed}");
        }
        finally
        {
            NativeMemory.Free(word);
        }
    }

    [Fact]
    public void Wake_FromAnotherThread_WakesTheSleeper()
    {
        int* word = (int*)NativeMemory.AllocZeroed(4);
        try
        {
            nint address = (nint)word;
            Libc.FutexWaitResult result = Libc.FutexWaitResult.TimedOut;
            Thread sleeper = new(() => result = Libc.Futex.Wait((int*)address, 0, 10_000_000_000));
            sleeper.Start();
            while (!sleeper.Join(10))
            {
                Interlocked.Exchange(ref *word, 1);
                Libc.Futex.Wake(word, int.MaxValue);
            }

            Assert.NotEqual(Libc.FutexWaitResult.TimedOut, result);
        }
        finally
        {
            NativeMemory.Free(word);
        }
    }

    [Fact]
    public void Wake_NobodyWaiting_ReturnsZero()
    {
        int* word = (int*)NativeMemory.AllocZeroed(4);
        try
        {
            Assert.Equal(0, Libc.Futex.Wake(word, 1));
        }
        finally
        {
            NativeMemory.Free(word);
        }
    }
}
