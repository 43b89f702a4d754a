using L4Rt.Contracts;
using L4Rt.Ipc;
using L4Rt.Shared;
using L4Rt.TestChild;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Contracts;

/// <summary>
/// Contract support within one process: the protocol field, generated clients over a direct link against a server
/// that answers what a test tells it (hostile replies must never become results), and the dynamic MrWriter/MrReader.
/// </summary>
public class ContractUnitTests
{
    [Fact]
    public void Protocol_EncodesIdVersionOpcode_AndRejectsWhatDoesNotFit()
    {
        int p = ContractProtocol.Encode(0x7FFF, 255, 255);
        Assert.True(p > 0);
        Assert.Equal((0x7FFF, 255, 255), (ContractProtocol.ContractIdOf(p), ContractProtocol.VersionOf(p), ContractProtocol.OpcodeOf(p)));
        Assert.Equal("contract 7 version 1 operation 2", ContractProtocol.Describe(ContractProtocol.Encode(7, 1, 2)));
        Assert.Equal(L4Status.Ok, ContractProtocol.CheckRequest(ContractProtocol.Encode(7, 1, 2), 7, 1));
        Assert.Equal(L4Status.ProtocolMismatch, ContractProtocol.CheckRequest(ContractProtocol.Encode(7, 2, 2), 7, 1));
        Assert.Equal(L4Status.ProtocolMismatch, ContractProtocol.CheckRequest(SystemProtocol.Irq, 7, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ContractProtocol.Encode(0, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ContractProtocol.Encode(1, 256, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ContractProtocol.Encode(1, 1, 0));
    }

    [Fact]
    public void GeneratedClient_OverADirectLink_AgainstTheGeneratedDispatcher()
    {
        CalculatorService service = new();
        using LocalServer server = new((thread, msg) => CalculatorDispatcher.Dispatch(service, thread, in msg));
        CalculatorClient calc = new(server.Client, server.Link, L4Timeout.FromMilliseconds(10_000));
        Assert.Equal(5, calc.Add(2, 3));
        Assert.Equal("hello, link", calc.Greet("link"));
    }

    [Fact]
    public void HostileReplies_NeverBecomeResults()
    {
        Func<Span<ulong>, MsgTag>? answer = null;
        using LocalServer server = new((thread, _) => answer!(thread.Utcb.Mr));
        CalculatorClient calc = new(server.Client, server.Link, L4Timeout.FromMilliseconds(10_000));

        answer = mr => new MsgTag(12345, words: 1); // not this contract
        Assert.Equal(L4Status.ProtocolMismatch, calc.TryAdd(1, 2, out int sum));
        Assert.Equal(0, sum);
        Assert.Contains("does not speak this contract", Assert.Throws<L4RtException>(() => calc.Add(1, 2)).Message, StringComparison.Ordinal);

        answer = mr => new MsgTag(CalculatorClient.ProtocolMove, words: 1); // Point3 needs three words
        Assert.Equal(L4Status.ProtocolViolation, calc.TryMove(default, default, false, out Point3 p));
        Assert.Equal(default, p);

        answer = mr =>
        {
            mr[0] = 5000; // a string "of 5000 bytes" in two words
            return new MsgTag(CalculatorClient.ProtocolGreet, words: 2);
        };
        Assert.Equal(L4Status.ProtocolViolation, calc.TryGreet("x", out string text));
        Assert.Null(text);

        answer = mr =>
        {
            mr[0] = 999; // a refusal with a status no server sends
            return new MsgTag(SystemProtocol.ContractError, words: 3);
        };
        Assert.Equal(L4Status.ProtocolViolation, calc.TryTotal(out _));

        answer = mr => new MsgTag(CalculatorClient.ProtocolAdd, words: 1);
        Assert.Equal(L4Status.Ok, calc.TryAdd(1, 2, out _)); // and a well-formed reply still works
    }

    [Fact]
    public void Dynamic_RoundTripsEveryKind_InOrder()
    {
        ulong[] mr = new ulong[MsgTag.MaxWords];
        MrWriter w = new(mr);
        w.Write(42).Write(-7L).Write(2.5).Write(true).Write('x').Write(new Point3(1, 2, 3)).Write("héllo").Write((string?)null).Write((ReadOnlySpan<byte>)[1, 2, 3]);
        MsgTag tag = w.ToTag(5);

        MrReader r = new(mr.AsSpan(0, tag.Words));
        Assert.Equal(42, r.Read<int>());
        Assert.Equal(-7L, r.Read<long>());
        Assert.Equal(2.5, r.Read<double>());
        Assert.True(r.Read<bool>());
        Assert.Equal('x', r.Read<char>());
        Assert.Equal(new Point3(1, 2, 3), r.Read<Point3>());
        Assert.Equal("héllo", r.ReadString());
        Assert.Null(r.ReadString());
        Assert.Equal([1, 2, 3], r.ReadBytes().ToArray());
        Assert.Equal(0, r.Remaining);
    }

    [Fact]
    public void Dynamic_TypeMismatch_IsRefusedWithWhatWasExpectedAndFound_NeverGarbage()
    {
        ulong[] mr = new ulong[MsgTag.MaxWords];
        MrWriter w = new(mr);
        w.Write(1).Write(2.5);
        MsgTag tag = w.ToTag(5);

        MrReader r = new(mr.AsSpan(0, tag.Words));
        Assert.Equal(1, r.Read<int>());
        Assert.False(r.TryRead(out int wrong));
        Assert.Equal(0, wrong);
        Assert.False(r.TryRead(out long alsoWrong)); // same size, other type
        Assert.False(r.TryRead(out Offset2 wrongStruct));
        L4RtException e = Assert.Throws<L4RtException>(() =>
        {
            MrReader again = new(mr.AsSpan(0, tag.Words));
            again.Read<int>();
            again.Read<int>();
        });
        Assert.Equal(L4Status.ProtocolViolation, e.Status);
        Assert.Equal("value 1 of the message (word 2): expected Int32, found Double", e.Message);
        Assert.Equal(2.5, r.Read<double>()); // a failed Try consumed nothing
        Assert.Contains("found the end of the message", Assert.Throws<L4RtException>(() =>
        {
            MrReader end = new(mr.AsSpan(0, tag.Words));
            end.Read<int>();
            end.Read<double>();
            end.Read<int>();
        }).Message, StringComparison.Ordinal);
        Assert.Equal(0, wrong + alsoWrong + wrongStruct.Dx);
    }

    [Fact]
    public void Dynamic_LyingLengthOrTruncatedValue_FailsInsteadOfReadingPast()
    {
        ulong[] mr = new ulong[MsgTag.MaxWords];
        MrWriter w = new(mr);
        w.Write("a string of some length");
        int words = w.Words;
        MrReader truncated = new(mr.AsSpan(0, words - 1)); // the last word did not arrive
        Assert.False(truncated.TryReadString(out _));

        mr[1] = 1000; // the length word lies
        MrReader lying = new(mr.AsSpan(0, words));
        Assert.False(lying.TryReadString(out _));

        MrWriter p = new(mr);
        p.Write(new Point3(1, 2, 3));
        MrReader cut = new(mr.AsSpan(0, 2));
        Assert.False(cut.TryRead(out Point3 _));
    }

    [Fact]
    public void Dynamic_TooMuchForTheRegisters_MarksTheWriterOverflowed_AndToTagThrows()
    {
        ulong[] mr = new ulong[MsgTag.MaxWords];
        MrWriter w = new(mr);
        for (int i = 0; i < 40; i++)
        {
            w.Write(i); // two words each
        }

        Assert.True(w.IsOverflowed);
        Assert.Equal(62, w.Words); // 31 values fitted, the rest were dropped
        bool threw = false;
        try
        {
            w.ToTag(1);
        }
        catch (InvalidOperationException)
        {
            threw = true;
        }

        Assert.True(threw);
        MrWriter s = new(mr);
        s.Write(new string('x', 600));
        Assert.True(s.IsOverflowed);
    }

    [Fact]
    public void Dynamic_AllocatesNothing()
    {
        ulong[] mr = new ulong[MsgTag.MaxWords];
        long failures = 0;
        long bytes = Allocations.OverRounds(i =>
        {
            MrWriter w = new(mr);
            w.Write(i).Write((long)i).Write(1.5).Write(true).Write(new Point3(i, i, i)).Write((ReadOnlySpan<byte>)[1, 2]);
            MrReader r = new(mr.AsSpan(0, w.Words));
            failures += r.Read<int>() == i && r.Read<long>() == i && r.Read<double>() == 1.5 && r.Read<bool>() && r.Read<Point3>().Z == i && r.ReadBytes().Length == 2 ? 0 : 1;
        });
        Assert.Equal(0, failures);
        Assert.Equal(0, bytes);
    }
}
