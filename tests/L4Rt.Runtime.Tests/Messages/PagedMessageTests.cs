using System.Text;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;

namespace L4Rt.Tests.Messages;

/// <summary>Pure units: the paged messages round-trip, and bounded strings are cut and checked as documented.</summary>
public class PagedMessageTests
{
    [Fact]
    public void NameListPage_RoundTrips_AndAFullPageFitsOneFrame()
    {
        List<(string, CapKind, CapRights, int)> entries = [];
        int budget = NameListPage.EntryBudget;
        for (int i = 0; ; i++)
        {
            string name = $"n/{i:D5}/".PadRight(ProtocolLimits.MaxNameLength, 'x');
            if (NameListPage.EntrySize(name) > budget)
            {
                break;
            }

            budget -= NameListPage.EntrySize(name);
            entries.Add((name, CapKind.Gate, CapRights.Send | CapRights.Map, i));
        }

        Payload reply = NameListPage.Reply(10_000, entries, more: true);
        Assert.True(FrameHeader.Size + reply.Length <= ProtocolLimits.MaxFrameSize);
        Assert.True(FrameHeader.Size + reply.Length > ProtocolLimits.MaxFrameSize - NameListPage.EntrySize(entries[0].Item1));
        FrameReader reader = new(reply.Span);
        List<(string Name, CapKind Kind, CapRights Rights, int Registrant)> read = [];
        Assert.True(NameListPage.ReadReply(ref reader, read, out int total));
        Assert.Equal(10_000, total);
        Assert.Equal(entries, read.Select(e => (e.Name, e.Kind, e.Rights, e.Registrant)));
    }

    [Fact]
    public void NameListPage_HostileCount_IsRefusedBeforeAllocating()
    {
        Payload reply = new Payload().Int32(1).Int32(int.MaxValue).Byte(0);
        List<(string, CapKind, CapRights, int)> into = [];
        L4RtException e = Assert.Throws<L4RtException>(() =>
        {
            FrameReader reader = new(reply.Span);
            NameListPage.ReadReply(ref reader, into, out _);
        });
        Assert.Equal(L4Status.ProtocolViolation, e.Status);
    }

    [Fact]
    public void StatusPage_RoundTrips()
    {
        byte[] chunk = Encoding.UTF8.GetBytes("{\"tasks\":[]}");
        FrameReader reader = new(StatusPage.Reply(7, 100, chunk).Span);
        Assert.Equal((7u, 100), StatusPage.ReadReplyHeader(ref reader));
        Assert.Equal(chunk, reader.ReadRest().ToArray());
        reader = new FrameReader(StatusPage.Request(7, 60).Span);
        Assert.Equal((7u, 60), StatusPage.ReadRequest(ref reader));
    }

    [Theory]
    [InlineData("plain ascii text that is long enough to be cut somewhere in the middle", 20)]
    [InlineData("ééééééééééééééééééééééééééééé", 11)]
    [InlineData("😀😀😀😀😀😀😀😀😀😀", 13)]
    public void BoundedString_IsCutAtACharacterBoundary_WithinTheLimit(string value, int maxBytes)
    {
        Payload payload = new Payload().String(value, maxBytes);
        FrameReader reader = new(payload.Span);
        string read = reader.ReadString(maxBytes, "s");
        Assert.True(Encoding.UTF8.GetByteCount(read) <= maxBytes);
        Assert.EndsWith("…", read, StringComparison.Ordinal);
        Assert.StartsWith(read[..^1], value, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadString_OverTheLimit_IsRefusedByItsLengthPrefix()
    {
        Payload payload = new Payload().String(new string('a', 300));
        L4RtException e = Assert.Throws<L4RtException>(() =>
        {
            FrameReader reader = new(payload.Span);
            reader.ReadString(128, "a name");
        });
        Assert.Equal(L4Status.ProtocolViolation, e.Status);
        Assert.Equal("a name is 300 bytes; at most 128 are allowed", e.Message);
    }
}
