# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_aiposture_global_optspecs
    string join \n config= print-config print-keys interval= theme= mouse passive log-file= no-history h/help V/version
end

function __fish_aiposture_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_aiposture_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_aiposture_using_subcommand
    set -l cmd (__fish_aiposture_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c aiposture -n "__fish_aiposture_needs_command" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_needs_command" -l interval -d 'Dashboard refresh cadence, e.g. 2s, 500ms (overrides the config)' -r
complete -c aiposture -n "__fish_aiposture_needs_command" -l theme -d 'Colour theme: default or mono (NO_COLOR forces mono)' -r
complete -c aiposture -n "__fish_aiposture_needs_command" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_needs_command" -l print-config -d 'Print the effective configuration and exit'
complete -c aiposture -n "__fish_aiposture_needs_command" -l print-keys -d 'Print the dashboard\'s keys (the table its help shows) and exit'
complete -c aiposture -n "__fish_aiposture_needs_command" -l mouse -d 'Capture the mouse in the dashboard'
complete -c aiposture -n "__fish_aiposture_needs_command" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_needs_command" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_needs_command" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_needs_command" -s V -l version -d 'Print version'
complete -c aiposture -n "__fish_aiposture_needs_command" -f -a "snapshot" -d 'Collect once, headless, and write the snapshot'
complete -c aiposture -n "__fish_aiposture_needs_command" -f -a "schema" -d 'Print the JSON Schema of the snapshot document'
complete -c aiposture -n "__fish_aiposture_needs_command" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, elvish, powershell)'
complete -c aiposture -n "__fish_aiposture_needs_command" -f -a "man" -d 'Print the man page (roff) on standard output: `aiposture man > aiposture.1`'
complete -c aiposture -n "__fish_aiposture_needs_command" -f -a "events" -d 'Print the events kept in the timeline store (oldest first)'
complete -c aiposture -n "__fish_aiposture_needs_command" -f -a "watch" -d 'Headless watch: collect every interval (and at once when a watched file changes), record the timeline, and print each new event as a line (JSON lines by default: one event per line, for a SIEM or `jq`)'
complete -c aiposture -n "__fish_aiposture_needs_command" -f -a "diff" -d 'List what changed between two snapshots written by `aiposture snapshot`: servers started, stopped or restarted; listeners added, removed or rebound (127.0.0.1 → 0.0.0.0); exposure and auth; models added, removed or swapped (sha256), chat templates; versions; new outbound peers; telemetry switches; findings opened or closed. A server is known by product, executable and user, never by pid, so a restart is one event. Exit 0: no change; 1: changes listed; 2: error (e.g. a file that is not a snapshot)'
complete -c aiposture -n "__fish_aiposture_needs_command" -f -a "baseline" -d 'The baseline: the state of the host you accepted. While it exists, every `snapshot` and dashboard refresh reports changes since it as `baseline.drift` findings (`[baseline] path` in the config)'
complete -c aiposture -n "__fish_aiposture_needs_command" -f -a "scan" -d 'Vet model files before serving them: sniff each by content and read its header (GGUF, safetensors, pickle, PyTorch zip, NumPy) without loading it. Exit 0: all clean; 1: a file is dangerous, suspicious or could not be fully checked; 2: usage error'
complete -c aiposture -n "__fish_aiposture_needs_command" -f -a "fleet" -d 'Many hosts, no agent: run aiposture on each host through the system `ssh` client (BatchMode, your ssh config and agent) and show one row per host: servers, worst exposure, findings by severity, advisory data age, air gap. A host that cannot be read is a row with its error. Exit 0: every host read; 4: at least one failed; 1: usage error'
complete -c aiposture -n "__fish_aiposture_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiposture -n "__fish_aiposture_using_subcommand snapshot" -l format -d 'Output formats, comma-separated (default: json; with --output-dir, `[export] formats` of the config)' -r -f -a "json\t''
jsonl\t''
markdown\t''
prometheus\t''
cyclonedx\t''
sarif\t''"
complete -c aiposture -n "__fish_aiposture_using_subcommand snapshot" -s o -l output -d 'Output file of the one format, written atomically; "-" or absent: standard output' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand snapshot" -l output-dir -d 'Write each format to a fixed name in DIR, atomically (created when missing): aiposture.json, aiposture.jsonl, aiposture.md, aiposture.prom, … — names a cron job or node_exporter\'s textfile collector can rely on' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand snapshot" -l fail-on -d 'Exit with code 3 when a finding of this severity or worse exists (suppressed findings are accepted risks and do not count)' -r
complete -c aiposture -n "__fish_aiposture_using_subcommand snapshot" -l advisories -d 'Advisory data: an osv.dev export (`all.zip`, a directory of OSV JSON, or a directory of per-ecosystem zips) instead of the embedded set (overrides `[advisories] path`)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand snapshot" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand snapshot" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand snapshot" -l no-hash-wait -d 'Do not wait for model files the hash cache does not know: files over 4 MiB are reported as not hashed (faster, less complete)'
complete -c aiposture -n "__fish_aiposture_using_subcommand snapshot" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand snapshot" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand snapshot" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand schema" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand schema" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand schema" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand schema" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand schema" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand completions" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand completions" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand completions" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand completions" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand completions" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand man" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand man" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand man" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand man" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand man" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand events" -l format -r -f -a "text\t''
jsonl\t''"
complete -c aiposture -n "__fish_aiposture_using_subcommand events" -l since -d 'Only events at or after this time (RFC 3339, e.g. 2026-11-20T14:00:00Z)' -r
complete -c aiposture -n "__fish_aiposture_using_subcommand events" -l kind -d 'Only events of these kinds (server_started, listener_rebound, model_changed, …)' -r
complete -c aiposture -n "__fish_aiposture_using_subcommand events" -l limit -d 'At most this many (the newest)' -r
complete -c aiposture -n "__fish_aiposture_using_subcommand events" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand events" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand events" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand events" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand events" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand watch" -l format -r -f -a "text\t''
jsonl\t''"
complete -c aiposture -n "__fish_aiposture_using_subcommand watch" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand watch" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand watch" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand watch" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand watch" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand diff" -l format -d 'Output: one line per event (time, kind, severity, subject: before → after) with its evidence indented, or a JSON array of events' -r -f -a "text\t''
json\t''"
complete -c aiposture -n "__fish_aiposture_using_subcommand diff" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand diff" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand diff" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand diff" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand diff" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and not __fish_seen_subcommand_from save show help" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and not __fish_seen_subcommand_from save show help" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and not __fish_seen_subcommand_from save show help" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and not __fish_seen_subcommand_from save show help" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and not __fish_seen_subcommand_from save show help" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and not __fish_seen_subcommand_from save show help" -f -a "save" -d 'Collect like `snapshot` (waiting for model hashes) and write the result atomically as the baseline; prints where'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and not __fish_seen_subcommand_from save show help" -f -a "show" -d 'Print when the baseline was taken and what it holds'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and not __fish_seen_subcommand_from save show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from save" -s o -l output -d 'Where to write it (default: `[baseline] path`, else $XDG_STATE_HOME/aiposture/baseline.json or ~/.local/state/aiposture/baseline.json)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from save" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from save" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from save" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from save" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from save" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from show" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from show" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from show" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from show" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from help" -f -a "save" -d 'Collect like `snapshot` (waiting for model hashes) and write the result atomically as the baseline; prints where'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print when the baseline was taken and what it holds'
complete -c aiposture -n "__fish_aiposture_using_subcommand baseline; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiposture -n "__fish_aiposture_using_subcommand scan" -l format -r -f -a "text\t''
json\t''"
complete -c aiposture -n "__fish_aiposture_using_subcommand scan" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand scan" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand scan" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand scan" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand scan" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l hosts-file -d 'Also read hosts from this file: one per line, `#` comments (default: `[fleet] hosts_file` when no host is named)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l jobs -d 'Hosts reached at the same time (default 8, `[fleet] jobs`)' -r
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l timeout -d 'Per-host limit; ssh is killed after it (default 60s, `[fleet] timeout`)' -r
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l remote-command -d 'What runs on each host (default `aiposture snapshot --format json -o -`); it must print one snapshot as JSON, e.g. `sudo -n /usr/local/bin/aiposture snapshot --format json -o -`' -r
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l ssh-config -d '`ssh -F FILE` instead of your ~/.ssh/config' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l ssh-option -d 'Extra `ssh -o KEY=VALUE` option (repeatable), e.g. IdentityFile=~/.ssh/fleet' -r
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l format -r -f -a "text\t''
json\t''
jsonl\t''
markdown\t''
prometheus\t''"
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -s o -l output -d 'Output file, written atomically; "-" or absent: standard output' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l keep -d 'Write each host\'s full snapshot to DIR/<host>.json (atomically)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l config -d 'Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l log-file -d 'Append diagnostics to this file (overrides the config)' -r -F
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l tui -d 'Show the fleet table in the terminal (Ctrl-l: run again, q: quit) instead of printing a report'
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l passive -d 'Send nothing, not even loopback probes: judge from /proc alone'
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -l no-history -d 'Record nothing in the timeline store (events and first-seen times are kept in memory for this run only)'
complete -c aiposture -n "__fish_aiposture_using_subcommand fleet" -s h -l help -d 'Print help'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and not __fish_seen_subcommand_from snapshot schema completions man events watch diff baseline scan fleet help" -f -a "snapshot" -d 'Collect once, headless, and write the snapshot'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and not __fish_seen_subcommand_from snapshot schema completions man events watch diff baseline scan fleet help" -f -a "schema" -d 'Print the JSON Schema of the snapshot document'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and not __fish_seen_subcommand_from snapshot schema completions man events watch diff baseline scan fleet help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, elvish, powershell)'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and not __fish_seen_subcommand_from snapshot schema completions man events watch diff baseline scan fleet help" -f -a "man" -d 'Print the man page (roff) on standard output: `aiposture man > aiposture.1`'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and not __fish_seen_subcommand_from snapshot schema completions man events watch diff baseline scan fleet help" -f -a "events" -d 'Print the events kept in the timeline store (oldest first)'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and not __fish_seen_subcommand_from snapshot schema completions man events watch diff baseline scan fleet help" -f -a "watch" -d 'Headless watch: collect every interval (and at once when a watched file changes), record the timeline, and print each new event as a line (JSON lines by default: one event per line, for a SIEM or `jq`)'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and not __fish_seen_subcommand_from snapshot schema completions man events watch diff baseline scan fleet help" -f -a "diff" -d 'List what changed between two snapshots written by `aiposture snapshot`: servers started, stopped or restarted; listeners added, removed or rebound (127.0.0.1 → 0.0.0.0); exposure and auth; models added, removed or swapped (sha256), chat templates; versions; new outbound peers; telemetry switches; findings opened or closed. A server is known by product, executable and user, never by pid, so a restart is one event. Exit 0: no change; 1: changes listed; 2: error (e.g. a file that is not a snapshot)'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and not __fish_seen_subcommand_from snapshot schema completions man events watch diff baseline scan fleet help" -f -a "baseline" -d 'The baseline: the state of the host you accepted. While it exists, every `snapshot` and dashboard refresh reports changes since it as `baseline.drift` findings (`[baseline] path` in the config)'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and not __fish_seen_subcommand_from snapshot schema completions man events watch diff baseline scan fleet help" -f -a "scan" -d 'Vet model files before serving them: sniff each by content and read its header (GGUF, safetensors, pickle, PyTorch zip, NumPy) without loading it. Exit 0: all clean; 1: a file is dangerous, suspicious or could not be fully checked; 2: usage error'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and not __fish_seen_subcommand_from snapshot schema completions man events watch diff baseline scan fleet help" -f -a "fleet" -d 'Many hosts, no agent: run aiposture on each host through the system `ssh` client (BatchMode, your ssh config and agent) and show one row per host: servers, worst exposure, findings by severity, advisory data age, air gap. A host that cannot be read is a row with its error. Exit 0: every host read; 4: at least one failed; 1: usage error'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and not __fish_seen_subcommand_from snapshot schema completions man events watch diff baseline scan fleet help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and __fish_seen_subcommand_from baseline" -f -a "save" -d 'Collect like `snapshot` (waiting for model hashes) and write the result atomically as the baseline; prints where'
complete -c aiposture -n "__fish_aiposture_using_subcommand help; and __fish_seen_subcommand_from baseline" -f -a "show" -d 'Print when the baseline was taken and what it holds'
