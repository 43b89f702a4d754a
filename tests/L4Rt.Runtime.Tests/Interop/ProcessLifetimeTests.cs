using System.Diagnostics;
using System.Globalization;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Interop;

[Collection(ProcessCollection.Name)]
public class ProcessLifetimeTests
{
    [Fact]
    public void HelperWhoseParentIsKilled_ExitsByItself()
    {
        using ChildProcess parent = ChildProcess.Start("spawn-grandchild");
        int grandchild = int.Parse(parent.WaitForLine("GRANDCHILD").Split(' ')[1], CultureInfo.InvariantCulture);
        using Process orphan = Process.GetProcessById(grandchild);
        parent.Kill();
        bool exited = orphan.WaitForExit(5000);
        if (!exited)
        {
            orphan.Kill(); // do not leave it behind even when the assertion fails
        }

        Assert.True(exited, "a helper outlived its killed parent");
    }
}
