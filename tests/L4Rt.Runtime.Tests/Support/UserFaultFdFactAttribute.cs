using L4Rt.Objects;

namespace L4Rt.Tests.Support;

/// <summary>A fact that needs userfaultfd (paged dataspaces); skipped, with the kernel's reason, where it is refused.</summary>
public sealed class UserFaultFdFactAttribute : FactAttribute
{
    public UserFaultFdFactAttribute()
    {
        if (SkipReason is { } reason)
        {
            Skip = reason;
        }
    }

    /// <summary>Why paged dataspaces cannot work in this process, or null when they can.</summary>
    public static string? SkipReason { get; } = PageFaultHandler.IsSupported(out string reason) ? null : $"userfaultfd is not available here: {reason}";
}
