namespace Atoll.Core.Fleet;

/// <summary>
/// The script that turns a fresh machine into an Atoll node, rendered once per claim in the forms providers accept.
/// </summary>
/// <param name="Script">A bash script (Verda startup script, SSH command, and what the others wrap).</param>
/// <param name="CloudConfig">A <c>#cloud-config</c> document (Lambda, Hetzner, TensorDock user data).</param>
/// <param name="WriteFiles">Files for cloud-init's <c>write_files</c> (Voltage Park accepts only packages, write_files and runcmd).</param>
/// <param name="RunCommands">Commands for cloud-init's <c>runcmd</c>.</param>
/// <param name="Packages">Debian packages for cloud-init's <c>packages</c>.</param>
/// <param name="AgentCommand">For the <c>local</c> provider: the <c>atoll agent</c> arguments that a VM's systemd unit would run.</param>
public sealed record BootstrapBundle(
    string Script,
    string CloudConfig,
    IReadOnlyList<BootstrapFile> WriteFiles,
    IReadOnlyList<string> RunCommands,
    IReadOnlyList<string> Packages,
    IReadOnlyList<string> AgentCommand);
