//! Command-line edge: parse flags, load config, dispatch. Errors become
//! messages and exit codes here (anyhow); the library uses typed errors.
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, Parser};

use aiposture::app::live::{Live, Plan};
use aiposture::app::runner::Runner;
use aiposture::atomic::write_atomic_mode;
use aiposture::collect::Collector;
use aiposture::config::Config;
use aiposture::knowledge::Knowledge;
use aiposture::knowledge::advisories::AdvisoryDb;
use aiposture::model::Severity;
use aiposture::timeline::Timeline;
use aiposture::views::export::{self, json, write_atomic};
use aiposture::views::tui;

mod cli;
use cli::*;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            log::error!("{e:#}");
            eprintln!("aiposture: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    if cli.print_keys {
        write_stdout(&tui::keys::key_table())?;
        return Ok(ExitCode::SUCCESS);
    }
    match &cli.command {
        Some(Command::Completions { shell }) => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "aiposture", &mut out);
            write_stdout(&String::from_utf8_lossy(&out))?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Man) => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .context("cannot render the man page")?;
            write_stdout(&String::from_utf8_lossy(&out))?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let (mut cfg, cfg_path) = Config::load(cli.config.as_deref())?;
    if let Some(i) = &cli.interval {
        cfg.interval = i.clone();
    }
    if let Some(t) = &cli.theme {
        cfg.theme = t.clone();
    }
    if cli.mouse {
        cfg.mouse = true;
    }
    if cli.passive {
        cfg.probes = false;
    }
    if let Some(l) = &cli.log_file {
        cfg.log_file = l.to_string_lossy().into_owned();
    }
    let origin = cfg_path.as_deref().unwrap_or("command line".as_ref());
    cfg.validate(origin)?;
    // The format names are the exporters' to judge; a bad one is a config error.
    export_formats(&cfg).map_err(|message| aiposture::Error::Config {
        path: origin.to_path_buf(),
        message,
    })?;
    if cli.print_config {
        let origin = cfg_path
            .map(|p| format!("# loaded from {}\n", p.display()))
            .unwrap_or_else(|| "# no config file: defaults and flags\n".into());
        print!("{origin}{}", cfg.to_toml());
        return Ok(ExitCode::SUCCESS);
    }
    init_logging(&cfg)?;

    match cli.command {
        Some(Command::Schema) => {
            print!("{}", json::schema()?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Snapshot {
            format,
            output,
            output_dir,
            fail_on,
            no_hash_wait,
            advisories,
        }) => {
            if let Some(a) = advisories {
                cfg.advisories.path = std::path::absolute(&a)
                    .unwrap_or(a)
                    .to_string_lossy()
                    .into_owned();
            }
            let target = match output_dir {
                Some(dir) => {
                    let formats = if format.is_empty() {
                        export_formats(&cfg).map_err(anyhow::Error::msg)?
                    } else {
                        export::formats(&format).map_err(anyhow::Error::msg)?
                    };
                    Target::Dir(dir, formats)
                }
                None => {
                    let formats = export::formats(&format).map_err(anyhow::Error::msg)?;
                    let one = match formats.as_slice() {
                        [] => export::Format::by_name("json").context("json format missing")?,
                        [f] => f,
                        _ => bail!("several formats need --output-dir DIR (one file each)"),
                    };
                    Target::File(output, one)
                }
            };
            snapshot(&cfg, target, fail_on, !no_hash_wait, cli.no_history)
        }
        Some(Command::Scan { format, paths }) => scan(&paths, format),
        // Answered before the configuration is read.
        Some(Command::Completions { .. } | Command::Man) => Ok(ExitCode::SUCCESS),
        Some(Command::Events {
            format,
            since,
            kind,
            limit,
        }) => events(&cfg, format, since.as_deref(), &kind, limit),
        Some(Command::Watch { format }) => watch(&cfg, format, cli.no_history),
        Some(Command::Diff { format, old, new }) => Ok(diff(&old, &new, format)),
        Some(Command::Baseline {
            action: BaselineAction::Save { output },
        }) => baseline_save(&cfg, output),
        Some(Command::Baseline {
            action: BaselineAction::Show { path },
        }) => baseline_show(&cfg, path),
        Some(Command::Fleet(args)) => fleet(&cfg, args),
        None => dashboard(&cfg, cli.no_history),
    }
}

/// The formats `[export] formats` names.
fn export_formats(cfg: &Config) -> Result<Vec<&'static export::Format>, String> {
    export::formats(&cfg.export.formats).map_err(|e| format!("export.formats: {e}"))
}

fn init_logging(cfg: &Config) -> Result<()> {
    if cfg.log_file.is_empty() {
        return Ok(());
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&cfg.log_file)
        .with_context(|| format!("cannot open log file {}", cfg.log_file))?;
    env_logger::Builder::new()
        .parse_filters(&cfg.log_level)
        .target(env_logger::Target::Pipe(Box::new(file)))
        .try_init()
        .context("cannot start logging")?;
    Ok(())
}

fn knowledge(cfg: &Config) -> Result<Knowledge> {
    let mut k = Knowledge::embedded()?;
    if !cfg.advisories.path.is_empty() {
        let path = PathBuf::from(&cfg.advisories.path);
        k.advisories = AdvisoryDb::from_path(&path)
            .with_context(|| format!("cannot use advisory data {}", path.display()))?;
        let d = &k.advisories.data;
        log::info!(
            "advisory data {}: {} records, {} withdrawn, {} unreadable, newest modified {:?}",
            d.origin,
            d.records,
            d.withdrawn,
            d.unreadable,
            d.newest_modified
        );
    }
    k.advisories.data.max_age_days = cfg.advisories.max_age_days;
    k.suppressions = cfg.suppress.clone();
    Ok(k)
}

fn collector(cfg: &Config) -> Result<Collector> {
    Ok(Collector::new(knowledge(cfg)?)
        .with_probes(cfg.probes)
        .with_model_roots(cfg.models.roots.iter().map(PathBuf::from).collect())
        .with_policy(cfg.policy_path()))
}

/// The history store of the configuration, or one in memory that says why.
fn timeline(cfg: &Config, no_history: bool) -> Timeline {
    if no_history {
        return Timeline::open(None, cfg.timeline.retention())
            .with_reason("--no-history: nothing is recorded");
    }
    Timeline::open(cfg.timeline.dir().as_deref(), cfg.timeline.retention())
}

/// Where `snapshot` writes: one format to a file or standard output, or
/// several formats to a directory.
enum Target {
    File(Option<PathBuf>, &'static export::Format),
    Dir(PathBuf, Vec<&'static export::Format>),
}

fn snapshot(
    cfg: &Config,
    target: Target,
    fail_on: Option<Severity>,
    wait_for_hashes: bool,
    no_history: bool,
) -> Result<ExitCode> {
    let snap = Runner::new(
        collector(cfg)?.wait_for_hashes(wait_for_hashes),
        timeline(cfg, no_history),
        cfg.baseline_path(),
        None,
        || {},
    )
    .step()?;
    log_summary(&snap);
    match target {
        Target::File(output, format) => {
            let text = (format.render)(&snap)?;
            match output.as_deref() {
                None => write_stdout(&text)?,
                Some(p) if p.as_os_str() == "-" => write_stdout(&text)?,
                Some(p) => write_atomic_mode(p, text.as_bytes(), Some(format.mode))?,
            }
        }
        Target::Dir(dir, formats) => {
            for p in export::write_all(&snap, &formats, &dir)? {
                log::info!("exported {}", p.display());
            }
        }
    }
    // Suppressed findings are accepted risks (`snap.suppressed`): they fail no gate;
    // an expired suppression leaves its finding in `snap.findings`.
    if let Some(threshold) = fail_on
        && snap.findings.iter().any(|f| f.severity >= threshold)
    {
        return Ok(ExitCode::from(EXIT_FINDINGS));
    }
    Ok(ExitCode::SUCCESS)
}

fn event_line(e: &aiposture::model::events::Event, format: EventsFormat) -> Result<String> {
    Ok(match format {
        EventsFormat::Jsonl => serde_json::to_string(e)?,
        EventsFormat::Text => {
            let change = match (&e.before, &e.after) {
                (Some(b), Some(a)) => format!(": {b} → {a}"),
                (None, Some(a)) => format!(": {a}"),
                (Some(b), None) => format!(": was {b}"),
                (None, None) => String::new(),
            };
            let mut s = format!(
                "{} {:<17} {:<8} {}{change}",
                e.time,
                e.kind.as_str(),
                e.severity.as_str(),
                e.subject.label()
            );
            for ev in &e.evidence {
                s.push_str(&format!("\n    {} — {}", ev.source, ev.detail));
            }
            s
        }
    })
}

fn events(
    cfg: &Config,
    format: EventsFormat,
    since: Option<&str>,
    kinds: &[String],
    limit: usize,
) -> Result<ExitCode> {
    use aiposture::model::events::EventKind;
    let mut wanted = Vec::new();
    for k in kinds {
        wanted.push(EventKind::parse(k).with_context(|| {
            let all: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown event kind {k:?} (one of {})", all.join(", "))
        })?);
    }
    if let Some(s) = since {
        humantime::parse_rfc3339_weak(s)
            .with_context(|| format!("--since {s:?}: expected an RFC 3339 time"))?;
    }
    let dir = cfg
        .timeline
        .dir()
        .context("no state directory ($XDG_STATE_HOME and $HOME unset)")?;
    if !dir.join("timeline.sqlite3").exists() {
        bail!(
            "no timeline at {}: run the dashboard, `aiposture watch` or `aiposture snapshot` first",
            dir.display()
        );
    }
    let store = aiposture::timeline::Store::open(&dir, cfg.timeline.retention())?;
    let mut list: Vec<_> = store
        .recent(limit)?
        .into_iter()
        .filter(|e| wanted.is_empty() || wanted.contains(&e.kind))
        .filter(|e| since.is_none_or(|s| e.time.as_str() >= s))
        .collect();
    list.reverse();
    let mut out = String::new();
    for e in &list {
        out.push_str(&event_line(e, format)?);
        out.push('\n');
    }
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn watch(cfg: &Config, format: EventsFormat, no_history: bool) -> Result<ExitCode> {
    let plan = Plan {
        collector: collector(cfg)?,
        timeline: timeline(cfg, no_history),
        baseline: cfg.baseline_path(),
        watch: cfg.timeline.watch_debounce().map_err(anyhow::Error::msg)?,
        interval: cfg.interval_duration().map_err(anyhow::Error::msg)?,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    rt.block_on(async {
        let mut live = Live::start(plan);
        let mut announced = false;
        while let Some(result) = live.results.recv().await {
            let snap = match result {
                Ok(s) => s,
                Err(e) => {
                    // One failed collection (e.g. /proc briefly unreadable) is not the end.
                    eprintln!("aiposture: collection failed: {e}");
                    continue;
                }
            };
            if !announced {
                announced = true;
                announce_watch(&snap);
            }
            let tl = snap.timeline.as_ref();
            if let Some(why) = tl.and_then(|t| t.memory_only.as_deref()) {
                log::warn!("timeline in memory only: {why}");
            }
            let mut out = String::new();
            for e in tl.map(|t| t.new_events.as_slice()).unwrap_or_default() {
                out.push_str(&event_line(e, format)?);
                out.push('\n');
            }
            if !out.is_empty() {
                write_stdout(&out)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The first line of `watch`, on stderr (stdout carries events only).
fn announce_watch(snap: &aiposture::model::Snapshot) {
    let tl = snap.timeline.as_ref();
    let w = tl.and_then(|t| t.watch.as_ref());
    eprintln!(
        "aiposture watch: {} inotify watches{}, history at {}",
        w.map_or(0, |w| w.watches),
        w.filter(|w| !w.errors.is_empty())
            .map(|w| format!(
                " ({} not watchable: {})",
                w.errors.len(),
                w.errors.join("; ")
            ))
            .unwrap_or_default(),
        tl.map_or("nowhere", |t| t.store.as_str())
    );
}

fn scan(paths: &[PathBuf], format: ScanFormat) -> Result<ExitCode> {
    let report = aiposture::app::scan::run(paths)?;
    let text = match format {
        ScanFormat::Text => aiposture::views::export::scan::to_text(&report),
        ScanFormat::Json => aiposture::views::export::scan::to_json(&report)?,
    };
    write_stdout(&text)?;
    Ok(if report.worst().fails() {
        ExitCode::from(EXIT_SCAN_UNCLEAN)
    } else {
        ExitCode::SUCCESS
    })
}

fn diff(old: &std::path::Path, new: &std::path::Path, format: ScanFormat) -> ExitCode {
    let run = || -> Result<ExitCode> {
        let events = aiposture::app::baseline::diff_files(old, new)?;
        let text = match format {
            ScanFormat::Text => aiposture::views::export::events::to_text(&events),
            ScanFormat::Json => aiposture::views::export::events::to_json(&events)?,
        };
        write_stdout(&text)?;
        Ok(if events.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_DIFF_CHANGED)
        })
    };
    run().unwrap_or_else(|e| {
        log::error!("{e:#}");
        eprintln!("aiposture: {e:#}");
        ExitCode::from(EXIT_DIFF_ERROR)
    })
}

fn read_snapshot(path: &std::path::Path) -> Result<aiposture::model::Snapshot> {
    Ok(aiposture::app::baseline::read_snapshot(path)?)
}

fn baseline_path(cfg: &Config, explicit: Option<PathBuf>) -> Result<PathBuf> {
    explicit
        .or_else(|| cfg.baseline_path())
        .context("no state directory ($XDG_STATE_HOME and $HOME unset): name the baseline file")
}

fn baseline_save(cfg: &Config, output: Option<PathBuf>) -> Result<ExitCode> {
    let path = baseline_path(cfg, output)?;
    let snap = aiposture::app::baseline::take(&collector(cfg)?.wait_for_hashes(true))?;
    log_summary(&snap);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_atomic(&path, json::to_json(&snap)?.as_bytes())?;
    write_stdout(&format!(
        "baseline written to {}
taken    {}
holds    {}
",
        path.display(),
        snap.inventory.host.collected_at,
        holds(&snap)
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn baseline_show(cfg: &Config, path: Option<PathBuf>) -> Result<ExitCode> {
    let path = baseline_path(cfg, path)?;
    if !path.exists() {
        bail!(
            "no baseline at {}; `aiposture baseline save` writes one",
            path.display()
        );
    }
    let snap = read_snapshot(&path)?;
    let host = &snap.inventory.host;
    write_stdout(&format!(
        "baseline {}
taken    {} on host {} by {} {} ({})
holds    {}
",
        path.display(),
        host.collected_at,
        host.hostname,
        snap.tool.name,
        snap.tool.version,
        snap.tool.mode,
        holds(&snap)
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// "2 servers, 3 listeners, 1 loaded model, 4 model files in stores, 5 findings"
fn holds(snap: &aiposture::model::Snapshot) -> String {
    let inv = &snap.inventory;
    let listeners = inv
        .servers
        .iter()
        .flat_map(|s| &s.sockets)
        .filter(|&&i| inv.sockets.get(i).is_some_and(|k| k.is_listener()))
        .count();
    let loaded: usize = inv.servers.iter().map(|s| s.models.len()).sum();
    let stored = inv
        .store_files
        .iter()
        .filter(|f| f.format.is_some())
        .count();
    format!(
        "{} servers, {listeners} listeners, {loaded} loaded models, {stored} model files in stores, {} findings",
        inv.servers.len(),
        snap.findings.len()
    )
}

fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .context("cannot write to standard output")
}

fn log_summary(snap: &aiposture::model::Snapshot) {
    let inv = &snap.inventory;
    log::info!(
        "collected {} processes, {} sockets, {} AI servers, {} findings ({} suppressed), {} blind spots in {} ms",
        inv.processes_seen,
        inv.sockets.len(),
        inv.servers.len(),
        snap.findings.len(),
        snap.suppressed.len(),
        inv.blind_spots.len(),
        inv.host.collection_ms
    );
    for s in &inv.servers {
        // argv is redacted at collection; env variables appear by name only.
        log::info!(
            "server {} pid {} user {:?} cmdline {:?} secret env names {:?}",
            s.product,
            s.pid,
            s.user,
            s.cmdline.join(" "),
            s.secret_env_names
        );
    }
    for b in &inv.blind_spots {
        log::info!("blind spot: {} ({}): {}", b.what, b.path, b.reason);
    }
}

fn dashboard(cfg: &Config, no_history: bool) -> Result<ExitCode> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        bail!("the dashboard needs a terminal; use `aiposture snapshot` for headless output");
    }
    let interval = cfg.interval_duration().map_err(anyhow::Error::msg)?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = tui::theme::Theme::load(&cfg.theme, no_color).map_err(anyhow::Error::msg)?;
    log::info!(
        "dashboard started: aiposture {}, interval {}, theme {}",
        env!("CARGO_PKG_VERSION"),
        cfg.interval,
        theme.name
    );
    let plan = Plan {
        collector: collector(cfg)?,
        timeline: timeline(cfg, no_history),
        baseline: cfg.baseline_path(),
        watch: cfg.timeline.watch_debounce().map_err(anyhow::Error::msg)?,
        interval,
    };
    let exit = tui::run(
        plan,
        tui::Options {
            theme,
            mouse: cfg.mouse,
            export_formats: export_formats(cfg).map_err(anyhow::Error::msg)?,
            export_dir: cfg.export.dir(),
        },
    )
    .context("dashboard failed")?;
    log::info!("dashboard ended: {exit:?}");
    Ok(ExitCode::from(exit_of_view(&exit)))
}

/// A view's exit code: 0 when quit, 128+signal when a signal ended it.
fn exit_of_view(exit: &tui::Exit) -> u8 {
    match exit {
        tui::Exit::Quit => 0,
        tui::Exit::Signal(name) => exit_on_signal(name),
    }
}

fn fleet(cfg: &Config, args: FleetArgs) -> Result<ExitCode> {
    use aiposture::app::fleet as f;
    use aiposture::views::export::fleet as out;
    let fc = &cfg.fleet;
    let mut given = args.hosts.clone();
    let hosts_file = args.hosts_file.clone().or_else(|| {
        (given.is_empty() && !fc.hosts_file.is_empty()).then(|| PathBuf::from(&fc.hosts_file))
    });
    if let Some(p) = &hosts_file {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("cannot read hosts file {}", p.display()))?;
        given.extend(f::parse_hosts_file(&text));
    }
    if given.is_empty() {
        bail!("no hosts: name them, or give --hosts-file (or `[fleet] hosts_file`)");
    }
    let targets = given
        .iter()
        .map(|h| f::parse_target(h).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let timeout = match &args.timeout {
        Some(t) => humantime::parse_duration(t)
            .ok()
            .filter(|d| d.as_secs() >= 1)
            .with_context(|| format!("--timeout {t:?}: expected a duration of at least 1s"))?,
        None => fc.timeout_duration().map_err(anyhow::Error::msg)?,
    };
    let jobs = args.jobs.unwrap_or(fc.jobs);
    if !(1..=256).contains(&jobs) {
        bail!("--jobs {jobs}: must be 1-256");
    }
    let mut ssh_options = fc.ssh_options.clone();
    for o in &args.ssh_options {
        f::check_ssh_option(o).map_err(anyhow::Error::msg)?;
        ssh_options.push(o.clone());
    }
    if let Some(dir) = &args.keep {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let opts = f::FleetOptions {
        remote_command: args
            .remote_command
            .clone()
            .unwrap_or_else(|| fc.remote_command.clone()),
        jobs,
        timeout,
        ssh_config: args
            .ssh_config
            .clone()
            .or_else(|| (!fc.ssh_config.is_empty()).then(|| PathBuf::from(&fc.ssh_config))),
        ssh_options,
        ssh_program: PathBuf::from("ssh"),
        keep_dir: args.keep.clone(),
    };
    if opts.remote_command.trim().is_empty() {
        bail!("--remote-command is empty");
    }
    if args.tui {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let theme = tui::theme::Theme::load(&cfg.theme, no_color).map_err(anyhow::Error::msg)?;
        use std::io::IsTerminal;
        if !std::io::stdout().is_terminal() {
            bail!("--tui needs a terminal; without it the fleet report is printed");
        }
        let exit = tui::fleet::run(targets, opts, theme).context("fleet view failed")?;
        return Ok(ExitCode::from(exit_of_view(&exit)));
    }
    let report = f::run_fleet(&targets, &opts, &|_, h| {
        if let aiposture::model::fleet::HostState::Error { stage, message, .. } = &h.state {
            log::warn!("fleet {}: {} failed: {message}", h.target, stage.as_str());
        }
    });
    let text = match args.format {
        FleetFormat::Text => out::to_text(&report),
        FleetFormat::Json => out::to_json(&report)?,
        FleetFormat::Jsonl => out::to_jsonl(&report)?,
        FleetFormat::Markdown => out::to_markdown(&report),
        FleetFormat::Prometheus => out::to_prometheus(&report),
    };
    match args.output.as_deref() {
        None => write_stdout(&text)?,
        Some(p) if p.as_os_str() == "-" => write_stdout(&text)?,
        Some(p) => write_atomic(p, text.as_bytes())?,
    }
    Ok(if report.failed() > 0 {
        ExitCode::from(EXIT_FLEET_HOST_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}
