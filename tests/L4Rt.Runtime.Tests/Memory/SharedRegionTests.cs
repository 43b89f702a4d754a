using L4Rt.Interop;
using L4Rt.Memory;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Tests.Memory;

public unsafe class SharedRegionTests
{
    [Fact]
    public void Create_IsZeroFilledAndSizeSealed()
    {
        using SharedRegion region = SharedRegion.Create("test", 8192);
        Assert.Equal(8192, region.Size);
        Assert.All(new Span<byte>(region.Base, 8192).ToArray(), b => Assert.Equal(0, b));
        int seals = Libc.Fcntl.GetSeals(region.Handle);
        Assert.NotEqual(0, seals & Libc.Fcntl.F_SEAL_SHRINK);
        Assert.NotEqual(0, seals & Libc.Fcntl.F_SEAL_GROW);
        Assert.Throws<IOException>(() => Libc.Sys.FTruncate(region.Handle, 100)); // a peer cannot shrink it under us
    }

    [Fact]
    public void Attach_SecondMapping_SeesTheSameMemory()
    {
        using SharedRegion region = SharedRegion.Create("test", 4096);
        using SharedRegion other = SharedRegion.Attach(Duplicate(region.Handle), 4096);
        region.Base[100] = 42;
        Assert.Equal(42, other.Base[100]);
    }

    [Fact]
    public void Attach_WrongSize_IsAProtocolViolation()
    {
        using SharedRegion region = SharedRegion.Create("test", 4096);
        L4RtException e = Assert.Throws<L4RtException>(() => SharedRegion.Attach(Duplicate(region.Handle), 8192));
        Assert.Equal(L4Status.ProtocolViolation, e.Status);
    }

    [Fact]
    public void Attach_UnsealedMemfd_IsRefused()
    {
        SafeFileHandle fd = Libc.Memfd.Create("unsealed");
        Libc.Sys.FTruncate(fd, 4096);
        L4RtException e = Assert.Throws<L4RtException>(() => SharedRegion.Attach(fd, 4096));
        Assert.Equal(L4Status.ProtocolViolation, e.Status);
        Assert.True(fd.IsClosed); // ownership was taken even on failure
    }

    [Fact]
    public void Attach_NotAMemfd_IsRefused()
    {
        string path = Path.GetTempFileName();
        try
        {
            SafeFileHandle fd = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
            L4RtException e = Assert.Throws<L4RtException>(() => SharedRegion.Attach(fd, 4096));
            Assert.Equal(L4Status.ProtocolViolation, e.Status);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LinkRegion_Attach_WrongMagic_IsRefused()
    {
        using SharedRegion region = SharedRegion.Create("fake-link", LinkLayout.RegionSize);
        L4RtException e = Assert.Throws<L4RtException>(() => LinkRegion.Attach(Duplicate(region.Handle)));
        Assert.Equal(L4Status.ProtocolViolation, e.Status);
    }

    internal static SafeFileHandle Duplicate(SafeFileHandle handle)
    {
        // Re-open through /proc to get an independent descriptor of the same memfd, as a peer would hold.
        return File.OpenHandle($"/proc/self/fd/{handle.DangerousGetHandle()}", FileMode.Open, FileAccess.ReadWrite);
    }
}
