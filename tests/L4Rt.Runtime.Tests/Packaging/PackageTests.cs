using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using L4Rt.Shared;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Packaging;

/// <summary>
/// <c>dotnet pack</c> of the packable projects (the build this test run uses, <c>--no-build</c>): each package has
/// its id, version, description, license and README; the libraries carry their XML docs (and the runtime its
/// buildTransitive props); the tools are .NET tools whose command runs after <c>dotnet tool install</c>.
/// </summary>
public sealed class PackageTests
{
    private static readonly string OutputDir = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);

    // tests/L4Rt.Runtime.Tests/bin/<Configuration>/<framework>
    private static readonly string Configuration = Path.GetFileName(Path.GetDirectoryName(OutputDir)!);

    private static readonly string RepoRoot = Path.GetFullPath(Path.Combine(OutputDir, "..", "..", "..", "..", ".."));

    [Fact]
    public void Packs_libraries_with_metadata_docs_and_readme_and_tools_that_install_and_run()
    {
        using TempDir dir = new();
        string packages = Path.Combine(dir.Path, "packages");
        foreach (string project in new[] { "src/Runtime", "src/Runtime.Hosting", "src/Cli", "src/Broker" })
        {
            (int code, string stdout, string stderr) = Dotnet(TimeSpan.FromMinutes(3), null, "pack", Path.Combine(RepoRoot, project), "-c", Configuration, "--no-build", "-o", packages);
            Assert.True(code == 0, $"dotnet pack {project} exited {code}:\n{stdout}\n{stderr}");
        }

        AssertLibrary(packages, "L4Rt.Runtime", "lib/net10.0/L4Rt.Runtime.dll", "lib/net10.0/L4Rt.Runtime.xml", "buildTransitive/L4Rt.Runtime.props");
        AssertLibrary(packages, "L4Rt.Runtime.Hosting", "lib/net10.0/L4Rt.Runtime.Hosting.dll", "lib/net10.0/L4Rt.Runtime.Hosting.xml");
        AssertTool(packages, "L4Rt.Cli", "l4rt", "l4rt.dll");
        AssertTool(packages, "L4Rt.Broker", "l4rtd", "l4rtd.dll", "appsettings.json", "deploy/l4rtd.service");

        // The runtime package's dependency on nothing but the framework, and hosting's on the runtime package.
        XElement hosting = Nuspec(packages, "L4Rt.Runtime.Hosting");
        Assert.Contains(hosting.Descendants().Where(e => e.Name.LocalName == "dependency"), d => (string?)d.Attribute("id") == "L4Rt.Runtime");

        // The CLI as a user gets it: installed from the package folder into a tool path, and run.
        string tools = Path.Combine(dir.Path, "tools");
        // A private NuGet cache, so what is installed is this package and not an earlier one of the same version.
        (int installCode, string installOut, string installErr) = Dotnet(TimeSpan.FromMinutes(2), Path.Combine(dir.Path, "nuget"), "tool", "install", "L4Rt.Cli", "--tool-path", tools, "--add-source", packages, "--version", Version(hosting));
        Assert.True(installCode == 0, $"dotnet tool install exited {installCode}:\n{installOut}\n{installErr}");
        ProcessStartInfo run = new(Path.Combine(tools, "l4rt")) { RedirectStandardOutput = true, RedirectStandardError = true };
        run.ArgumentList.Add("--help");
        (int helpCode, string help, string helpErr) = ManagedProcess.RunToExit(run, TimeSpan.FromSeconds(60));
        Assert.True(helpCode == 0, $"installed l4rt --help exited {helpCode}: {helpErr}");
        Assert.Contains("status", help, StringComparison.Ordinal);
    }

    private static void AssertLibrary(string packages, string id, params string[] files)
    {
        using ZipArchive zip = Open(packages, id);
        AssertMetadata(packages, id, zip);
        foreach (string file in files)
        {
            Assert.True(zip.GetEntry(file) is not null, $"{id} lacks {file}; it has: {string.Join(", ", zip.Entries.Select(e => e.FullName))}");
        }

        // The XML docs are the real ones: every public type of the assembly has a summary there.
        using StreamReader docs = new(zip.GetEntry(files[1])!.Open());
        XDocument xml = XDocument.Load(docs);
        Assert.True(xml.Descendants("member").Count(m => ((string?)m.Attribute("name"))?.StartsWith("T:", StringComparison.Ordinal) == true) >= 3, $"{id}: XML docs without types");
    }

    private static void AssertTool(string packages, string id, string command, params string[] files)
    {
        using ZipArchive zip = Open(packages, id);
        AssertMetadata(packages, id, zip);
        Assert.Contains(Nuspec(packages, id).Descendants().Where(e => e.Name.LocalName == "packageType"), t => (string?)t.Attribute("name") == "DotnetTool");
        using StreamReader settings = new(zip.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open());
        XElement entry = XDocument.Load(settings).Descendants("Command").Single();
        Assert.Equal(command, (string?)entry.Attribute("Name"));
        Assert.Equal(files[0], (string?)entry.Attribute("EntryPoint"));
        foreach (string file in files)
        {
            Assert.True(zip.GetEntry($"tools/net10.0/any/{file}") is not null, $"{id} lacks tools/net10.0/any/{file}");
        }
    }

    private static void AssertMetadata(string packages, string id, ZipArchive zip)
    {
        XElement nuspec = Nuspec(packages, id);
        string? Field(string name) => nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
        Assert.Equal(id, Field("id"));
        Assert.False(string.IsNullOrWhiteSpace(Field("version")), $"{id}: no version");
        Assert.True(Field("description") is { Length: > 40 }, $"{id}: no real description");
        Assert.False(string.IsNullOrWhiteSpace(Field("license")), $"{id}: no license");
        Assert.NotNull(nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == "repository"));
        Assert.Equal("README.md", Field("readme"));
        ZipArchiveEntry readme = zip.GetEntry("README.md") ?? throw new Xunit.Sdk.XunitException($"{id}: README.md not in the package");
        using StreamReader text = new(readme.Open());
        Assert.Contains("l4rt", text.ReadToEnd(), StringComparison.OrdinalIgnoreCase);
    }

    private static string Version(XElement nuspec) => nuspec.Descendants().First(e => e.Name.LocalName == "version").Value;

    private static XElement Nuspec(string packages, string id)
    {
        using ZipArchive zip = Open(packages, id);
        using StreamReader reader = new(zip.GetEntry($"{id}.nuspec")!.Open());
        return XDocument.Load(reader).Root!;
    }

    private static ZipArchive Open(string packages, string id)
    {
        string[] found = Directory.GetFiles(packages, $"{id}.*.nupkg").Where(f => System.Text.RegularExpressions.Regex.IsMatch(Path.GetFileName(f), $@"^{System.Text.RegularExpressions.Regex.Escape(id)}\.\d")).ToArray();
        Assert.True(found.Length == 1, $"expected one {id} package in {packages}, found: {string.Join(", ", Directory.GetFiles(packages).Select(Path.GetFileName))}");
        return ZipFile.OpenRead(found[0]);
    }

    private static (int Code, string Stdout, string Stderr) Dotnet(TimeSpan timeout, string? nugetCache, params string[] args)
    {
        ProcessStartInfo info = new("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        if (nugetCache is not null)
        {
            info.Environment["NUGET_PACKAGES"] = nugetCache;
        }

        return ManagedProcess.RunToExit(info, timeout);
    }
}
