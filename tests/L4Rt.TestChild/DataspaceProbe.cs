using System.Globalization;
using L4Rt.Objects;

namespace L4Rt.TestChild;

// Shared with the test project (linked there): every process of a test reads its mapping the same way.
/// <summary>What a test can learn about a mapping from outside the SDK.</summary>
internal static class DataspaceProbe
{
    /// <summary>The inode of the file mapped at the mapping's address, from /proc/self/maps: the same inode in every process is the same pages.</summary>
    internal static unsafe string MappedInode(DataspaceMapping mapping)
    {
        ulong start = (ulong)mapping.Pointer;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            string[] range = fields[0].Split('-');
            if (ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == start)
            {
                return fields[4];
            }
        }

        return "none";
    }
}
