using System.Diagnostics;
using L4Rt.Shared;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>
/// The systemd user unit as publishing lays it out: <c>dotnet publish src/Broker -o ~/.local/lib/l4rtd</c> copies the
/// broker's build output (binary, appsettings.json, deploy/, README.md), so the build output stands in for
/// <c>~/.local/lib/l4rtd</c> here.
/// </summary>
public class SystemdUnitTests
{
    private const string InstallDir = "%h/.local/lib/l4rtd";

    private static readonly string s_published = ToolProcess.BrokerOutput;

    private static string Unit => Path.Combine(s_published, "deploy", "l4rtd.service");

    [Fact]
    public void Unit_DocumentationAndExecStart_ExistWherePublishingPutsThem()
    {
        string[] lines = File.ReadAllLines(Unit);
        string[] documentation = [.. lines.Where(l => l.StartsWith("Documentation=", StringComparison.Ordinal)).SelectMany(l => l["Documentation=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))];
        Assert.NotEmpty(documentation);
        foreach (string url in documentation)
        {
            Assert.StartsWith($"file://{InstallDir}/", url, StringComparison.Ordinal);
            string file = Published(url["file://".Length..]);
            Assert.True(File.Exists(file), $"Documentation={url} names {file}, which publishing does not produce");
        }

        string exec = lines.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..].Split(' ')[0];
        Assert.True(File.Exists(Published(exec)), $"ExecStart={exec} is not in the published layout");
    }

    [Fact]
    public void Unit_InstallSteps_CreateTheUserUnitDirectory_AndCopyAPublishedUnit()
    {
        List<string> steps = [.. File.ReadAllLines(Unit).TakeWhile(l => l.StartsWith('#'))];
        int mkdir = steps.FindIndex(l => l.Contains("mkdir -p ~/.config/systemd/user", StringComparison.Ordinal));
        int copy = steps.FindIndex(l => l.Contains(" ~/.config/systemd/user/", StringComparison.Ordinal) && l.Contains("cp ", StringComparison.Ordinal));
        Assert.True(mkdir >= 0, "the install steps must create ~/.config/systemd/user (a fresh account has none)");
        Assert.True(copy > mkdir, "the unit is copied after the directory is created");
        string source = steps[copy].Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipWhile(w => w != "cp").ElementAt(1);
        Assert.True(File.Exists(Published(source.Replace("~/.local/lib/l4rtd", InstallDir, StringComparison.Ordinal))), $"the install steps copy {source}, which publishing does not produce");
    }

    [SystemdAnalyzeFact]
    public void Unit_SystemdAnalyzeVerify_ReportsNothing()
    {
        // %h is $HOME: a home whose ~/.local/lib/l4rtd is the published layout, so ExecStart is checked for real.
        using TempDir home = new();
        Directory.CreateDirectory(Path.Combine(home.Path, ".local", "lib"));
        Directory.CreateSymbolicLink(Path.Combine(home.Path, ".local", "lib", "l4rtd"), s_published);
        string unit = Path.Combine(home.Path, "l4rtd.service");
        File.Copy(Unit, unit);

        ProcessStartInfo info = new(SystemdAnalyzeFactAttribute.Tool!, ["verify", unit]) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["HOME"] = home.Path;
        info.Environment["SYSTEMD_PAGER"] = "";
        // Bounded on the pipes too: verify may leave a helper holding them open after it exits (it hung a CI run).
        (int code, string stdout, string stderr) = ManagedProcess.RunToExit(info, TimeSpan.FromSeconds(60));
        string report = stdout + stderr;

        // verify exits 0 on warnings (unknown keys, bad URLs) too: any line about our unit is a failure.
        Assert.True(code == 0, $"systemd-analyze verify exited {code}:\n{report}");
        Assert.DoesNotContain("l4rtd.service", report, StringComparison.Ordinal);
    }

    private static string Published(string path) =>
        path.StartsWith(InstallDir + "/", StringComparison.Ordinal) ? Path.Combine(s_published, path[(InstallDir.Length + 1)..]) : path;
}
