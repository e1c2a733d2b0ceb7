//! Colour themes from `themes/*.toml`, embedded at build time.

use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::model::{Reach, Severity};

const DEFAULT: &str = include_str!("../../../themes/default.toml");
const MONO: &str = include_str!("../../../themes/mono.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    name: String,
    text: String,
    muted: String,
    title: String,
    border: String,
    border_focused: String,
    header_bg: String,
    header_fg: String,
    selected_bg: String,
    selected_fg: String,
    critical: String,
    high: String,
    medium: String,
    low: String,
    info: String,
    exposure_loopback: String,
    exposure_wide: String,
    exposure_address: String,
    blind_spot: String,
}

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    pub text: Color,
    pub muted: Color,
    pub title: Color,
    pub border: Color,
    pub border_focused: Color,
    pub header_bg: Color,
    pub header_fg: Color,
    pub selected_bg: Color,
    pub selected_fg: Color,
    severity: [Color; 5],
    pub exposure_loopback: Color,
    pub exposure_wide: Color,
    pub exposure_address: Color,
    pub blind_spot: Color,
}

impl Theme {
    /// `name` is "default" or "mono"; `no_color` (NO_COLOR set) forces mono.
    pub fn load(name: &str, no_color: bool) -> Result<Theme, String> {
        let text = match (name, no_color) {
            (_, true) | ("mono", _) => MONO,
            ("default", _) => DEFAULT,
            (other, _) => return Err(format!("unknown theme {other:?}")),
        };
        let raw: RawTheme = toml::from_str(text).map_err(|e| format!("theme {name}: {e}"))?;
        let c = |s: &str| Color::from_str(s).map_err(|_| format!("theme {name}: bad colour {s:?}"));
        Ok(Theme {
            name: raw.name.clone(),
            text: c(&raw.text)?,
            muted: c(&raw.muted)?,
            title: c(&raw.title)?,
            border: c(&raw.border)?,
            border_focused: c(&raw.border_focused)?,
            header_bg: c(&raw.header_bg)?,
            header_fg: c(&raw.header_fg)?,
            selected_bg: c(&raw.selected_bg)?,
            selected_fg: c(&raw.selected_fg)?,
            severity: [
                c(&raw.info)?,
                c(&raw.low)?,
                c(&raw.medium)?,
                c(&raw.high)?,
                c(&raw.critical)?,
            ],
            exposure_loopback: c(&raw.exposure_loopback)?,
            exposure_wide: c(&raw.exposure_wide)?,
            exposure_address: c(&raw.exposure_address)?,
            blind_spot: c(&raw.blind_spot)?,
        })
    }

    pub fn severity(&self, s: Severity) -> Style {
        let style = Style::default().fg(self.severity[s as usize]);
        if s >= Severity::High {
            style.add_modifier(Modifier::BOLD)
        } else {
            style
        }
    }

    pub fn exposure(&self, reach: Reach) -> Style {
        match reach {
            Reach::LoopbackOnly => Style::default().fg(self.exposure_loopback),
            Reach::HostOnly | Reach::Unknown => Style::default().fg(self.exposure_address),
            Reach::Lan | Reach::Vpn => Style::default()
                .fg(self.exposure_wide)
                .add_modifier(Modifier::BOLD),
            Reach::Public => Style::default()
                .fg(self.exposure_wide)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        }
    }

    pub fn selected(&self) -> Style {
        if self.selected_bg == Color::Reset {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
                .bg(self.selected_bg)
                .fg(self.selected_fg)
                .add_modifier(Modifier::BOLD)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_themes_load_and_no_color_forces_mono() {
        assert_eq!(
            Theme::load("default", false).expect("default").name,
            "default"
        );
        assert_eq!(Theme::load("default", true).expect("mono").name, "mono");
        assert!(Theme::load("neon", false).is_err());
    }
}
