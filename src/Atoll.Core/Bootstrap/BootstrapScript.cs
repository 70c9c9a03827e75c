using System.Text;

namespace Atoll.Core.Bootstrap;

/// <summary>Writes the bash bootstrap script. Every rendered value goes through <see cref="ShellQuote"/>.</summary>
internal static class BootstrapScript
{
    public const string SettingsStart = "# --- settings (rendered) ---";
    public const string SettingsEnd = "# --- end of settings ---";

    public static string Render(BootstrapSettings s, string envFile, string unit)
    {
        var b = new StringBuilder();
        b.Append($$"""
            #!/usr/bin/env bash
            # Atoll node bootstrap: installs and starts the atoll agent on this machine. Rendered by the control plane.
            # Rendered values are single-quoted on purpose ($, ` and \ in them are literal): SC2016 and SC1003 would flag that.
            # shellcheck disable=SC2016,SC1003
            set -euo pipefail

            {{SettingsStart}}
            node_name={{ShellQuote.Word(s.NodeName)}}
            agent_url={{ShellQuote.Word(s.AgentUrl)}}
            node_taints=({{string.Join(' ', s.Taints.Select(ShellQuote.Word))}})
            {{SettingsEnd}}

            log() { printf '%s atoll-bootstrap: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

            if [ "$(id -u)" -ne 0 ]; then
              log "must run as root"
              exit 1
            fi
            export DEBIAN_FRONTEND=noninteractive


            """);
        if (s.PinNvidiaDriver)
        {
            b.Append($$"""
                # A driver upgrade under a loaded kernel module breaks NVML ("Driver/library version mismatch"):
                # hold what is installed and keep unattended-upgrades away from NVIDIA packages.
                pin_nvidia_driver() {
                  local installed=()
                  if command -v dpkg-query >/dev/null 2>&1; then
                    # ${...} is dpkg-query's format, not the shell's.
                    mapfile -t installed < <(dpkg-query -W -f='${db:Status-Status} ${Package}\n' 'nvidia-*' 'libnvidia-*' 2>/dev/null \
                      | awk '$1 == "installed" { print $2 }' || true)
                  fi
                  if [ "${#installed[@]}" -gt 0 ]; then
                    log "holding ${#installed[@]} NVIDIA packages"
                    apt-mark hold "${installed[@]}" >/dev/null
                  else
                    log "no NVIDIA packages installed to hold"
                  fi
                  mkdir -p /etc/apt/apt.conf.d
                  {{HereDoc(BootstrapPaths.NvidiaBlacklist, NvidiaBlacklist)}}
                }


                """);
        }
        b.Append($$"""
            install_agent() {
              if ! command -v curl >/dev/null 2>&1; then
                log "installing curl"
                apt-get update -qq
                apt-get install -y -qq curl ca-certificates >/dev/null
              fi
              log "downloading the agent from $agent_url"
              local tmp
              tmp=$(mktemp)
              curl -fsSL --retry 10 --retry-delay 3 --retry-connrefused --connect-timeout 10 -o "$tmp" "$agent_url"
              install -m 0755 "$tmp" {{BootstrapPaths.Binary}}
              rm -f "$tmp"
            }

            write_agent_config() {
              install -d -m 0755 /etc/atoll /etc/systemd/system
              install -m 0600 /dev/null {{BootstrapPaths.EnvFile}}
              {{HereDoc(BootstrapPaths.EnvFile, envFile)}}
              {{HereDoc(BootstrapPaths.UnitFile, unit)}}
            }

            # === mesh join (placeholder) ===================================================================
            # A later change joins this node to the WireGuard mesh here, before the agent starts.
            mesh_join() {
              :
            }

            # === k3s join (placeholder) ====================================================================
            # A later change installs k3s here and joins it as an agent, passing each of node_taints as --node-taint.
            k3s_join() {
              if [ "${#node_taints[@]}" -gt 0 ]; then
                log "k3s join is not implemented yet; taints for it: ${node_taints[*]}"
              fi
            }

            start_agent() {
              systemctl daemon-reload
              systemctl enable --now {{BootstrapPaths.UnitName}}
              log "agent $node_name started"
            }

            run_extra() {
              log "running: $1"
              bash -c "$1"
            }


            """);
        if (s.PinNvidiaDriver)
        {
            b.Append("pin_nvidia_driver\n");
        }
        b.Append("install_agent\nwrite_agent_config\nmesh_join\nk3s_join\nstart_agent\n");
        foreach (var command in s.ExtraCommands)
        {
            b.Append("run_extra ").Append(ShellQuote.Word(command)).Append('\n');
        }
        b.Append("log \"bootstrap of $node_name done\"\n");
        return b.ToString();
    }

    private const string NvidiaBlacklist = """
        Unattended-Upgrade::Package-Blacklist {
            "nvidia-";
            "libnvidia-";
            "cuda-drivers";
        };

        """;

    /// <summary>
    /// <c>cat &gt; path</c> from a quoted here-document (nothing in it is expanded), with a delimiter that no line of
    /// <paramref name="content"/> equals, so a value cannot end the document early.
    /// </summary>
    internal static string HereDoc(string path, string content)
    {
        var lines = content.Split('\n');
        var delimiter = "ATOLL_EOF";
        for (var i = 1; lines.Contains(delimiter, StringComparer.Ordinal); i++)
        {
            delimiter = $"ATOLL_EOF_{i}";
        }
        var body = content.EndsWith('\n') ? content : content + "\n";
        return $"cat > {ShellQuote.Word(path)} <<'{delimiter}'\n{body}{delimiter}";
    }
}
