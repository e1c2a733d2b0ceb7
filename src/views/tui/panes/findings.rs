//! The findings and blind spots lists' detail: evidence, remediation, and the
//! accepted risk of a suppressed finding.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::model::Snapshot;
use crate::views::tui::rows::*;
use crate::views::tui::theme::Theme;
use crate::views::tui::widgets::*;

/// Why a finding is suppressed: the accepted risk as the config records it.
pub(crate) fn suppression_lines(
    r: &crate::model::SuppressionRef,
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    out.push(Line::from(Span::styled(
        format!("SUPPRESSED until {} (accepted risk)", r.expires),
        Style::default()
            .fg(theme.muted)
            .add_modifier(Modifier::BOLD),
    )));
    out.push(kv("reason", r.reason.clone()));
    out.push(kv("owner", r.owner.clone()));
    out.push(kv("expires", format!("{} (end of day, UTC)", r.expires)));
    if let Some(t) = &r.ticket {
        out.push(kv("ticket", t.clone()));
    }
    out.push(kv(
        "entry",
        format!("{} [[suppress]] #{}", r.origin, r.index + 1),
    ));
    out.push(kv("matched on", r.matched_on.clone()));
    out.push(Line::from(""));
}

pub(crate) fn detail_finding(s: &Snapshot, item: Item, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let fd = match item {
        Item::Suppressed(i) => {
            let Some(x) = s.suppressed.get(i) else {
                return out;
            };
            suppression_lines(&x.suppression, theme, &mut out);
            &x.finding
        }
        Item::Finding(i) => match s.findings.get(i) {
            Some(fd) => fd,
            None => return out,
        },
        _ => return out,
    };
    out.push(Line::from(vec![
        Span::styled(format!("[{}] ", fd.severity), theme.severity(fd.severity)),
        Span::styled(
            fd.title.clone(),
            Style::default().add_modifier(Modifier::BOLD),
        ),
    ]));
    out.push(kv("rule", fd.rule.clone()));
    out.push(kv(
        "subject",
        format!(
            "{} pid {}{}",
            fd.subject.product,
            fd.subject.pid,
            fd.subject
                .listener
                .as_ref()
                .map(|l| format!(" on {l}"))
                .unwrap_or_default()
        ),
    ));
    out.push(Line::from(fd.summary.clone()));
    out.push(Line::from(""));
    out.push(heading("Evidence"));
    for e in &fd.evidence {
        out.push(Line::from(format!("• {} — {}", e.source, e.detail)));
    }
    out.push(Line::from(""));
    out.push(heading("Remediation"));
    out.push(Line::from(fd.remediation.clone()));
    out
}

pub(crate) fn detail_blind_spot(s: &Snapshot, i: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let Some(b) = s.inventory.blind_spots.get(i) else {
        return out;
    };
    out.push(Line::from(Span::styled(
        format!("Not seen: {}", b.what),
        Style::default()
            .fg(theme.blind_spot)
            .add_modifier(Modifier::BOLD),
    )));
    out.push(kv("path", b.path.to_string()));
    out.push(kv("reason", b.reason.clone()));
    out.push(kv("consequence", b.consequence.clone()));
    out
}
