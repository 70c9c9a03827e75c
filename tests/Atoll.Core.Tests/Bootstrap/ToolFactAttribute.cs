namespace Atoll.Core.Tests.Bootstrap;

/// <summary>
/// A fact that needs external tools: skipped with a message when one is missing and the tests do not run as root
/// (a developer's machine); as root (test.sh, CI) it runs and fails on the missing tool, so CI cannot pass silently.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(params string[] tools)
    {
        var missing = tools.Where(t => !File.Exists(t)).ToList();
        if (missing.Count > 0 && !Environment.IsPrivilegedProcess)
        {
            Skip = $"{string.Join(", ", missing)} not installed and not running as root (test.sh installs it)";
        }
    }
}
