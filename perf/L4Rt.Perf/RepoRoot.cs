namespace L4Rt.Perf;

internal static class RepoRoot
{
    /// <summary>The directory holding L4Rt.sln, found by walking up from the binary (or the current directory).</summary>
    internal static string Find()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "L4Rt.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("Run the harness from inside the L4Rt repository (L4Rt.sln not found).");
    }
}
