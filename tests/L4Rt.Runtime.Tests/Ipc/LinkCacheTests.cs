using L4Rt.Ipc;

namespace L4Rt.Tests.Ipc;

/// <summary>The sending thread's cache of its links, without processes.</summary>
public class LinkCacheTests
{
    [Fact]
    public void TryGet_KeysAddedUpToTheWays_EachReturnsItsOwnLink()
    {
        LinkCache<string> cache = default;
        object[] keys = [new(), new(), new(), new()];
        for (int i = 0; i < keys.Length; i++)
        {
            cache.Add(keys[i], $"link {i}");
        }

        for (int i = 0; i < keys.Length; i++)
        {
            Assert.True(cache.TryGet(keys[i], out string? link));
            Assert.Equal($"link {i}", link);
        }

        Assert.False(cache.TryGet(new object(), out _));
    }

    [Fact]
    public void Add_MoreKeysThanWays_EvictsTheOldestAndNeverMixesKeyAndLink()
    {
        LinkCache<string> cache = default;
        object[] keys = [.. Enumerable.Range(0, LinkCache<string>.Ways + 1).Select(_ => new object())];
        for (int i = 0; i < keys.Length; i++)
        {
            cache.Add(keys[i], $"link {i}");
        }

        Assert.False(cache.TryGet(keys[0], out _));
        for (int i = 1; i < keys.Length; i++)
        {
            Assert.True(cache.TryGet(keys[i], out string? link));
            Assert.Equal($"link {i}", link);
        }
    }

    [Fact]
    public void Add_SameKeyAgain_ReplacesItsLinkInPlace()
    {
        LinkCache<string> cache = default;
        object a = new(), b = new();
        cache.Add(a, "old");
        cache.Add(b, "b");
        cache.Add(a, "new");
        Assert.True(cache.TryGet(a, out string? link));
        Assert.Equal("new", link);
        Assert.True(cache.TryGet(b, out _));
        cache.Remove(a);
        Assert.False(cache.TryGet(a, out _));
        Assert.True(cache.TryGet(b, out _));
    }
}
