using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using L4Rt.Shared;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Docs;

/// <summary>
/// The README's C# snippets compile as a new user's project would compile them: a fresh net10.0 project that
/// references the built L4Rt.Runtime.dll, takes the README's project guidance (the XML block that answers CA1416)
/// and treats every warning as an error. What a snippet leaves to the reader (<c>frame</c>, <c>Encode</c>, <c>Use</c>,
/// <c>other</c>, <c>ct</c>, a <c>task</c> from an earlier snippet) is declared by the harness.
/// </summary>
public partial class ReadmeSnippetTests
{
    private const string Harness = """
        using L4Rt;

        internal static partial class Snippets
        {
            // Stand-ins for what the snippets leave to the reader's code.
            private static readonly L4Task task = null!;
            private static readonly L4Task other = null!;
            private static readonly byte[] frame = [];
            private static readonly CancellationToken ct = CancellationToken.None;

            private static void Encode(byte[] source, Span<byte> destination) => source.CopyTo(destination);

            private static void Use(ReadOnlySpan<byte> record) => GC.KeepAlive(record.Length);
        }
        """;

    private static string Readme => File.ReadAllText(Path.Combine(RepoRoot, "README.md"));

    internal static string RepoRoot
    {
        get
        {
            DirectoryInfo? dir = new(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "L4Rt.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new DirectoryNotFoundException("L4Rt.sln not found above the test output");
        }
    }

    [Fact]
    public void CSharpSnippets_CompileInAFreshConsumerProject_WithoutAWarning()
    {
        string[] snippets = [.. Blocks(Readme, "csharp")];
        Assert.True(snippets.Length >= 3, $"found {snippets.Length} C# snippets in README.md");
        string guidance = Assert.Single(Blocks(Readme, "xml"), b => b.Contains("SupportedOSPlatformAttribute", StringComparison.Ordinal));

        using TempDir dir = new();
        File.WriteAllText(Path.Combine(dir.Path, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <!-- Gluing snippets into methods: code after a server's endless loop shows the next process. -->
                <NoWarn>$(NoWarn);CS0162</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="L4Rt.Runtime" HintPath="{typeof(L4Task).Assembly.Location}" />
              </ItemGroup>
            {guidance}
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir.Path, "Harness.cs"), Harness);
        for (int i = 0; i < snippets.Length; i++)
        {
            File.WriteAllText(Path.Combine(dir.Path, $"Snippet{i + 1}.cs"), Wrap(snippets[i], i + 1));
        }

        (int code, string output) = Build(dir.Path);
        Assert.True(code == 0, $"the README's snippets do not compile in a consumer project:\n{output}");
        Assert.DoesNotMatch(@"warning [A-Z]+\d+", output);
    }

    [Fact]
    public void ShippedProps_AddTheSameAttributeAsTheReadmeGuidance()
    {
        string guidance = Assert.Single(Blocks(Readme, "xml"), b => b.Contains("SupportedOSPlatformAttribute", StringComparison.Ordinal));
        XElement props = XElement.Load(Path.Combine(RepoRoot, "src", "Runtime", "buildTransitive", "L4Rt.Runtime.props"));
        XElement fromReadme = XElement.Parse($"<Project>{guidance}</Project>");
        Assert.Equal(Attribute(fromReadme), Attribute(props));

        static string Attribute(XElement project)
        {
            XElement attribute = project.Descendants().Single(e => e.Name.LocalName == "AssemblyAttribute");
            return $"{attribute.Attribute("Include")?.Value}({attribute.Elements().Single().Value})";
        }
    }

    /// <summary>A snippet as a method of <c>Snippets</c>, its <c>using</c> directives lifted to the top of the file.</summary>
    private static string Wrap(string snippet, int number)
    {
        StringBuilder usings = new();
        StringBuilder body = new();
        foreach (string line in snippet.Split('\n'))
        {
            (UsingDirective().IsMatch(line) ? usings : body).Append(line).Append('\n');
        }

        string modifiers = snippet.Contains("await ", StringComparison.Ordinal) ? "async Task" : "void";
        return $$"""
            {{usings}}
            internal static partial class Snippets
            {
                private static {{modifiers}} Snippet{{number}}()
                {
            {{body}}
                }
            }
            """;
    }

    private static IEnumerable<string> Blocks(string markdown, string language) =>
        FencedBlock().Matches(markdown).Where(m => m.Groups["lang"].Value == language).Select(m => m.Groups["code"].Value);

    private static (int Code, string Output) Build(string dir)
    {
        ProcessStartInfo info = new("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "build", "Consumer.csproj", "-nologo", "-v:q", "-nodeReuse:false", "-p:UseSharedCompilation=false", "-clp:NoSummary" })
        {
            info.ArgumentList.Add(arg);
        }

        // The test host runs under `dotnet test`: its MSBuild variables must not steer this separate build.
        foreach (string name in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        (int code, string stdout, string stderr) = ManagedProcess.RunToExit(info, TimeSpan.FromMinutes(5));
        return (code, stdout + stderr);
    }

    [GeneratedRegex(@"^```(?<lang>[a-z]+)\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedBlock();

    [GeneratedRegex(@"^using [A-Za-z0-9_.]+;\s*(//.*)?$")]
    private static partial Regex UsingDirective();
}
