//! Colours and glyphs in one place, so `NO_COLOR` turns every style off at once.
//!
//! Under `NO_COLOR` the screen is plain text: glyphs (✔ ✘ ▶) carry the meaning, and
//! screen tests compare plain buffers.

use ratatui::style::{Color, Modifier, Style};

use crate::store::view::{ResourceView, RuntimeStatus, UpdateStatus};

/// Braille spinner frames, advanced by the UI's tick while something is busy.
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }
    pub fn error(self) -> Style {
        self.fg(Color::Red)
    }
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn dim(self) -> Style {
        self.fg(Color::DarkGray)
    }
    pub fn system(self) -> Style {
        self.fg(Color::Cyan)
    }
    pub fn title(self) -> Style {
        if self.color {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        }
    }
    pub fn selected(self) -> Style {
        if self.color {
            Style::default().bg(Color::DarkGray)
        } else {
            Style::default()
        }
    }

    pub fn update(self, s: UpdateStatus) -> Style {
        match s {
            UpdateStatus::Ok => self.ok(),
            UpdateStatus::Error => self.error(),
            UpdateStatus::Pending | UpdateStatus::InProgress => self.warn(),
            UpdateStatus::None => self.dim(),
        }
    }

    pub fn runtime(self, s: RuntimeStatus) -> Style {
        match s {
            RuntimeStatus::Ok => self.ok(),
            RuntimeStatus::Error => self.error(),
            RuntimeStatus::Pending => self.warn(),
            RuntimeStatus::None | RuntimeStatus::NotApplicable => self.dim(),
        }
    }

    /// The status glyph of a resource and its style.
    pub fn glyph(self, r: &ResourceView, tick: usize) -> (&'static str, Style) {
        if r.disabled {
            ("⊘", self.dim())
        } else if r.busy() {
            (SPINNER[tick % SPINNER.len()], self.warn())
        } else if r.is_error() {
            ("✘", self.error())
        } else if r.is_ok() {
            ("✔", self.ok())
        } else {
            ("·", self.dim())
        }
    }

    /// Errors and warnings in log text stand out.
    pub fn log_line(self, text: &str) -> Style {
        let lower = text.to_lowercase();
        if ["error", "✘", "fail", "panic", "fatal"]
            .iter()
            .any(|w| lower.contains(w))
        {
            self.error()
        } else if lower.contains("warn") {
            self.warn()
        } else {
            Style::default()
        }
    }
}

pub fn update_text(s: UpdateStatus) -> &'static str {
    match s {
        UpdateStatus::Pending => "pending",
        UpdateStatus::InProgress => "in progress",
        UpdateStatus::Ok => "ok",
        UpdateStatus::Error => "error",
        UpdateStatus::None => "none",
    }
}

pub fn runtime_text(s: RuntimeStatus) -> &'static str {
    match s {
        RuntimeStatus::Pending => "pending",
        RuntimeStatus::Ok => "ok",
        RuntimeStatus::Error => "error",
        RuntimeStatus::None => "none",
        RuntimeStatus::NotApplicable => "n/a",
    }
}

/// "4s", "3m", "2h", "5d": coarse, like Tilt's ages.
pub fn age(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// "0.4s", "12s", "3m": how long a run took.
pub fn took(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 { format!("{s:.1}s") } else { age(d) }
}
