//! The command line: every flag and subcommand (clap derive), and every exit
//! code in one place. `main.rs` dispatches on what is parsed here.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use aiposture::model::Severity;
use aiposture::views::export;

/// Exit code when findings at or above --fail-on exist.
pub const EXIT_FINDINGS: u8 = 3;

#[derive(Parser)]
#[command(
    name = "aiposture",
    version,
    about = "Live security posture of a local AI stack"
)]
pub struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/aiposture/config.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print the effective configuration and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Print the dashboard's keys (the table its help shows) and exit.
    #[arg(long)]
    pub print_keys: bool,
    /// Dashboard refresh cadence, e.g. 2s, 500ms (overrides the config).
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// Colour theme: default or mono (NO_COLOR forces mono).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Capture the mouse in the dashboard.
    #[arg(long)]
    pub mouse: bool,
    /// Send nothing, not even loopback probes: judge from /proc alone.
    #[arg(long, global = true)]
    pub passive: bool,
    /// Append diagnostics to this file (overrides the config).
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Record nothing in the timeline store (events and first-seen times are
    /// kept in memory for this run only).
    #[arg(long, global = true)]
    pub no_history: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Collect once, headless, and write the snapshot.
    Snapshot {
        /// Output formats, comma-separated (default: json; with --output-dir,
        /// `[export] formats` of the config).
        #[arg(
            long,
            value_delimiter = ',',
            value_name = "FMT[,FMT…]",
            value_parser = clap::builder::PossibleValuesParser::new(export::FORMATS.iter().map(|f| f.name))
        )]
        format: Vec<String>,
        /// Output file of the one format, written atomically; "-" or absent:
        /// standard output.
        #[arg(
            short = 'o',
            long = "output",
            value_name = "PATH",
            conflicts_with = "output_dir"
        )]
        output: Option<PathBuf>,
        /// Write each format to a fixed name in DIR, atomically (created when
        /// missing): aiposture.json, aiposture.jsonl, aiposture.md,
        /// aiposture.prom, … — names a cron job or node_exporter's textfile
        /// collector can rely on.
        #[arg(long, value_name = "DIR")]
        output_dir: Option<PathBuf>,
        /// Exit with code 3 when a finding of this severity or worse exists
        /// (suppressed findings are accepted risks and do not count).
        #[arg(long, value_name = "SEVERITY")]
        fail_on: Option<Severity>,
        /// Do not wait for model files the hash cache does not know: files over
        /// 4 MiB are reported as not hashed (faster, less complete).
        #[arg(long)]
        no_hash_wait: bool,
        /// Advisory data: an osv.dev export (`all.zip`, a directory of OSV JSON,
        /// or a directory of per-ecosystem zips) instead of the embedded set
        /// (overrides `[advisories] path`).
        #[arg(long, value_name = "DIR|all.zip")]
        advisories: Option<PathBuf>,
    },
    /// Print the JSON Schema of the snapshot document.
    Schema,
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on standard output: `aiposture man > aiposture.1`.
    Man,
    /// Print the events kept in the timeline store (oldest first).
    Events {
        #[arg(long, value_enum, default_value_t = EventsFormat::Text)]
        format: EventsFormat,
        /// Only events at or after this time (RFC 3339, e.g. 2026-11-20T14:00:00Z).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only events of these kinds (server_started, listener_rebound, model_changed, …).
        #[arg(long, value_name = "KIND")]
        kind: Vec<String>,
        /// At most this many (the newest).
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Headless watch: collect every interval (and at once when a watched file
    /// changes), record the timeline, and print each new event as a line
    /// (JSON lines by default: one event per line, for a SIEM or `jq`).
    Watch {
        #[arg(long, value_enum, default_value_t = EventsFormat::Jsonl)]
        format: EventsFormat,
    },
    /// List what changed between two snapshots written by `aiposture snapshot`:
    /// servers started, stopped or restarted; listeners added, removed or
    /// rebound (127.0.0.1 → 0.0.0.0); exposure and auth; models added, removed
    /// or swapped (sha256), chat templates; versions; new outbound peers;
    /// telemetry switches; findings opened or closed. A server is known by
    /// product, executable and user, never by pid, so a restart is one event.
    /// Exit 0: no change; 1: changes listed; 2: error (e.g. a file that is not
    /// a snapshot).
    Diff {
        /// Output: one line per event (time, kind, severity, subject: before →
        /// after) with its evidence indented, or a JSON array of events.
        #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
        format: ScanFormat,
        /// The earlier snapshot.
        #[arg(value_name = "OLD.json")]
        old: PathBuf,
        /// The later snapshot.
        #[arg(value_name = "NEW.json")]
        new: PathBuf,
    },
    /// The baseline: the state of the host you accepted. While it exists, every
    /// `snapshot` and dashboard refresh reports changes since it as
    /// `baseline.drift` findings (`[baseline] path` in the config).
    Baseline {
        #[command(subcommand)]
        action: BaselineAction,
    },
    /// Vet model files before serving them: sniff each by content and read its
    /// header (GGUF, safetensors, pickle, PyTorch zip, NumPy) without loading it.
    /// Exit 0: all clean; 1: a file is dangerous, suspicious or could not be
    /// fully checked; 2: usage error.
    Scan {
        #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
        format: ScanFormat,
        /// Files or directories (walked; symlinks inside are not followed).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Many hosts, no agent: run aiposture on each host through the system
    /// `ssh` client (BatchMode, your ssh config and agent) and show one row per
    /// host: servers, worst exposure, findings by severity, advisory data age,
    /// air gap. A host that cannot be read is a row with its error.
    /// Exit 0: every host read; 4: at least one failed; 1: usage error.
    Fleet(FleetArgs),
}

#[derive(clap::Args)]
pub struct FleetArgs {
    /// Hosts: `[user@]host[:port]`, `[user@][v6addr]:port` or an ssh_config alias.
    #[arg(value_name = "HOST")]
    pub hosts: Vec<String>,
    /// Also read hosts from this file: one per line, `#` comments
    /// (default: `[fleet] hosts_file` when no host is named).
    #[arg(long, value_name = "FILE")]
    pub hosts_file: Option<PathBuf>,
    /// Hosts reached at the same time (default 8, `[fleet] jobs`).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Per-host limit; ssh is killed after it (default 60s, `[fleet] timeout`).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// What runs on each host (default `aiposture snapshot --format json -o -`);
    /// it must print one snapshot as JSON, e.g. `sudo -n /usr/local/bin/aiposture
    /// snapshot --format json -o -`.
    #[arg(long, value_name = "COMMAND")]
    pub remote_command: Option<String>,
    /// `ssh -F FILE` instead of your ~/.ssh/config.
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Extra `ssh -o KEY=VALUE` option (repeatable), e.g. IdentityFile=~/.ssh/fleet.
    #[arg(long = "ssh-option", value_name = "KEY=VALUE")]
    pub ssh_options: Vec<String>,
    #[arg(long, value_enum, default_value_t = FleetFormat::Text)]
    pub format: FleetFormat,
    /// Output file, written atomically; "-" or absent: standard output.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Write each host's full snapshot to DIR/<host>.json (atomically).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Show the fleet table in the terminal (Ctrl-l: run again, q: quit) instead of
    /// printing a report.
    #[arg(long)]
    pub tui: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FleetFormat {
    Text,
    Json,
    Jsonl,
    Markdown,
    Prometheus,
}

/// Exit code of `fleet` when a host could not be read.
pub const EXIT_FLEET_HOST_FAILED: u8 = 4;

#[derive(Subcommand)]
pub enum BaselineAction {
    /// Collect like `snapshot` (waiting for model hashes) and write the result
    /// atomically as the baseline; prints where.
    Save {
        /// Where to write it (default: `[baseline] path`, else
        /// $XDG_STATE_HOME/aiposture/baseline.json or ~/.local/state/aiposture/baseline.json).
        #[arg(short = 'o', long = "output", value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// Print when the baseline was taken and what it holds.
    Show {
        /// A baseline file other than the configured one.
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
    },
}

/// Exit code of `diff` when something changed, and on any error.
pub const EXIT_DIFF_CHANGED: u8 = 1;
pub const EXIT_DIFF_ERROR: u8 = 2;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    Text,
    Jsonl,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
}

/// Exit code of `scan` when a file is not clean.
pub const EXIT_SCAN_UNCLEAN: u8 = 1;

/// Conventional 128+signal exit codes of a view ended by a signal (SIGHUP over
/// SSH, SIGINT, SIGTERM); 0 when the terminal went away otherwise.
pub fn exit_on_signal(name: &str) -> u8 {
    match name {
        "SIGHUP" => 129,
        "SIGINT" => 130,
        "SIGTERM" => 143,
        _ => 0,
    }
}
