//! Rows of the Patch pane: every versioned component of every server (and of the
//! host), with the advisories that match it, worst first.

use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

use crate::model::advisory::AdvisoryMatch;
use crate::model::components::Component;
use crate::model::{Severity, Snapshot};
use crate::views::tui::rows::*;
use crate::views::tui::theme::Theme;
use crate::views::tui::widgets::*;

pub const SEVERITY: usize = 0;
pub const COMPONENT: usize = 1;
pub const VERSION: usize = 2;
pub const ADVISORIES: usize = 3;
pub const FIXED: usize = 4;

/// Matches of one component of the server with `pid` (0: the host).
pub fn matches_of<'s>(s: &'s Snapshot, pid: u32, c: &Component) -> Vec<&'s AdvisoryMatch> {
    s.patch
        .matches
        .iter()
        .filter(|m| {
            m.pid == pid && m.found.component.key == c.key && m.found.component.path == c.path
        })
        .map(|m| &m.found)
        .collect()
}

/// What the check says of a component with no match: covered and clean,
/// not comparable, not covered — never "none known" for what was not checked.
pub fn coverage_word(s: &Snapshot, pid: u32, c: &Component) -> String {
    if c.shadowed {
        return "not imported (shadowed)".into();
    }
    s.patch
        .coverage_of(pid, c)
        .map_or_else(|| "not checked".into(), |cov| cov.label())
}

pub(crate) fn row(
    s: &Snapshot,
    item: Item,
    owner: &str,
    pid: u32,
    c: &Component,
) -> (Option<Severity>, Row) {
    let found = matches_of(s, pid, c);
    let worst = found.iter().map(|m| m.severity).max();
    let mut counts: Vec<String> = Vec::new();
    for sev in Severity::ALL.iter().rev() {
        let n = found.iter().filter(|m| m.severity == *sev).count();
        if n > 0 {
            counts.push(format!("{n} {sev}"));
        }
    }
    let mut fixed: Vec<&str> = found
        .iter()
        .flat_map(|m| m.fixed.iter().map(String::as_str))
        .collect();
    fixed.sort_unstable();
    fixed.dedup();
    let fixed = if found.is_empty() {
        String::new()
    } else if found.iter().any(|m| m.no_fix_known) && fixed.is_empty() {
        "no fix known".into()
    } else {
        fixed.join(", ")
    };
    let shadow = if c.shadowed { " (shadowed)" } else { "" };
    (
        worst,
        Row {
            item,
            cells: vec![
                worst.map_or("-".into(), |w| w.to_string()),
                format!("{owner}: {}{shadow}", c.name),
                c.version.clone(),
                if counts.is_empty() {
                    coverage_word(s, pid, c)
                } else {
                    counts.join(", ")
                },
                fixed,
            ],
            scope: None,
        },
    )
}

pub fn rows(s: &Snapshot) -> Vec<Row> {
    let mut ranked: Vec<(Option<Severity>, Row)> = Vec::new();
    for (si, srv) in s.inventory.servers.iter().enumerate() {
        let owner = format!("{} {}", srv.product_id, srv.pid);
        for (ci, c) in srv.components.iter().enumerate() {
            ranked.push(row(s, Item::Component(Some(si), ci), &owner, srv.pid, c));
        }
    }
    for (ci, c) in s.inventory.system_software.components.iter().enumerate() {
        ranked.push(row(s, Item::Component(None, ci), "host", 0, c));
    }
    // Stable: components keep their order (sys.path order) within a severity.
    ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
    ranked.into_iter().map(|(_, r)| r).collect()
}

/// Which advisory data is in use and how old it is, for the pane title.
pub fn data_label(s: &Snapshot) -> String {
    let d = &s.patch.data;
    let age = d
        .age_days
        .map(|a| {
            let stale = if a > d.max_age_days { ", STALE" } else { "" };
            format!("{a} days old{stale}")
        })
        .unwrap_or_else(|| "age unknown".into());
    format!("advisories: {} ({} records, {age})", d.origin, d.records)
}

/// Patch columns that fit `width`, after the severity column.
pub(crate) fn patch_columns(width: u16) -> Vec<(usize, Constraint)> {
    let mut cols = vec![
        (COMPONENT, Constraint::Fill(2)),
        (VERSION, Constraint::Length(16)),
    ];
    if width >= 70 {
        cols.push((ADVISORIES, Constraint::Length(22)));
    }
    if width >= 95 {
        cols.push((FIXED, Constraint::Fill(1)));
    }
    cols
}

pub(crate) fn detail(
    s: &Snapshot,
    si: Option<usize>,
    ci: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let (owner, pid, c) = match si {
        Some(si) => {
            let Some(sv) = s.inventory.servers.get(si) else {
                return out;
            };
            (
                format!("{} pid {}", sv.product, sv.pid),
                sv.pid,
                sv.components.get(ci),
            )
        }
        None => (
            "the host".to_string(),
            0,
            s.inventory.system_software.components.get(ci),
        ),
    };
    let Some(c) = c else {
        return out;
    };
    out.push(heading(&format!("{} {}", c.name, c.version)));
    out.push(kv("used by", owner));
    out.push(kv("read from", format!("{} ({:?})", c.path, c.how)));
    if c.shadowed {
        out.push(Line::from(
            "shadowed: an earlier copy on sys.path is the one imported",
        ));
    }
    out.push(kv("data", data_label(s)));
    let found = matches_of(s, pid, c);
    if found.is_empty() {
        use crate::model::advisory::Coverage;
        let text = match s.patch.coverage_of(pid, c) {
            Some(Coverage::NoKnownAdvisories) => {
                "No known advisories: the data in use covers this ecosystem and none applies to this version.".to_string()
            }
            Some(Coverage::NotComparable { why }) => format!("Not comparable: {why}."),
            Some(Coverage::NotCovered { why }) => {
                format!("Not covered: {why}; nothing was checked for this component.")
            }
            Some(Coverage::Vulnerable { count }) => format!("{count} advisories apply."),
            None => "Not checked: this snapshot records no advisory coverage for it.".to_string(),
        };
        out.push(Line::from(text));
    }
    for m in found {
        out.push(Line::from(""));
        out.push(Line::from(vec![
            Span::styled(m.severity.as_str(), theme.severity(m.severity)),
            Span::raw(format!(" {}", m.ids.join(", "))),
        ]));
        if let Some(cv) = &m.cvss {
            out.push(kv("cvss", format!("{} {}", cv.score, cv.vector)));
        }
        out.push(Line::from(m.summary.clone()));
        out.push(kv(
            "fixed in",
            if m.fixed.is_empty() {
                "no fixed version recorded".into()
            } else {
                m.fixed.join(", ")
            },
        ));
    }
    out
}
