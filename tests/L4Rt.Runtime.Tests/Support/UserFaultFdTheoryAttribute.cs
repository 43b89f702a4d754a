namespace L4Rt.Tests.Support;

/// <summary>A theory that needs userfaultfd; skipped with the reason where it is refused (see <see cref="UserFaultFdFactAttribute"/>).</summary>
public sealed class UserFaultFdTheoryAttribute : TheoryAttribute
{
    public UserFaultFdTheoryAttribute()
    {
        if (UserFaultFdFactAttribute.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
