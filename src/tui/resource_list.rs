//! The resource list: one row per resource, grouped by label, plus a detail line for
//! the selected one (trigger mode, endpoints).
//!
//! Rows are plain formatted text with fixed columns rather than a `Table`, so a
//! narrow terminal drops whole columns (kind first) instead of squeezing every one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::App;
use super::rows::{Row, resource_rows, rows};
use super::theme::{self, Theme};
use crate::model::TriggerMode;
use crate::store::view::{ResourceView, Snapshot};

/// Column widths for a terminal width.
struct Columns {
    name: usize,
    kind: bool,
}

impl Columns {
    fn fit(snap: &Snapshot, width: u16) -> Self {
        let longest = snap.resources.iter().map(|r| r.name.chars().count()).max();
        let name = longest.unwrap_or(4).clamp(4, 24);
        Self {
            name,
            kind: usize::from(width) >= name + 60,
        }
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, snap: &Snapshot) {
    let t = Theme { color: app.color };
    if snap.resources.is_empty() {
        let text = if snap.tiltfile_error.is_some() {
            "No resources: the Tiltfile did not load."
        } else if snap.tiltfile_loading {
            "Loading the Tiltfile…"
        } else {
            "No resources: the Tiltfile declares none."
        };
        f.render_widget(Paragraph::new(Line::styled(text, t.dim())), area);
        return;
    }
    let cols = Columns::fit(snap, area.width);
    let all = rows(snap);
    let selected_row = selected_line(&all, app.selected);
    let selected = app
        .selected
        .min(resource_rows(snap).len().saturating_sub(1));
    // The column heading and the detail line take one line each.
    let room = usize::from(area.height.saturating_sub(2)).max(1);
    let first = (selected_row + 1).saturating_sub(room);
    let mut lines = vec![heading(&cols, t)];
    let mut resource_no = all[..first]
        .iter()
        .filter(|r| matches!(r, Row::Resource(_)))
        .count();
    for row in all.iter().skip(first).take(room) {
        lines.push(match row {
            Row::Group(label) => Line::styled(format!("  ── {label} "), t.title()),
            Row::Resource(i) => {
                let sel = resource_no == selected;
                resource_no += 1;
                resource_line(&snap.resources[*i], sel, &cols, app, t)
            }
        });
    }
    if let Some(r) = app.selected(snap) {
        lines.push(detail_line(r, t));
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// The list line of the selected resource.
fn selected_line(rows: &[Row], selected: usize) -> usize {
    let mut seen = 0;
    let mut last = 0;
    for (line, row) in rows.iter().enumerate() {
        if let Row::Resource(_) = row {
            last = line;
            if seen == selected {
                return line;
            }
            seen += 1;
        }
    }
    last
}

fn heading(cols: &Columns, t: Theme) -> Line<'static> {
    let mut s = format!("    {:<w$} ", "NAME", w = cols.name);
    if cols.kind {
        s.push_str(&format!("{:<8}", "KIND"));
    }
    s.push_str(&format!(
        "{:<12}{:<8}{:<13}WHY",
        "UPDATE", "RUNTIME", "LAST"
    ));
    Line::styled(s, t.dim())
}

fn resource_line(
    r: &ResourceView,
    selected: bool,
    cols: &Columns,
    app: &App,
    t: Theme,
) -> Line<'static> {
    let (glyph, gstyle) = t.glyph(r, app.tick);
    let name: String = r.name.chars().take(cols.name).collect();
    let mut spans = vec![
        Span::raw(if selected { "▶ " } else { "  " }),
        Span::styled(format!("{glyph} "), gstyle),
        Span::raw(format!("{name:<w$} ", w = cols.name)),
    ];
    if cols.kind {
        spans.push(Span::styled(format!("{:<8}", r.kind), t.dim()));
    }
    spans.push(Span::styled(
        format!("{:<12}", theme::update_text(r.update)),
        t.update(r.update),
    ));
    spans.push(Span::styled(
        format!("{:<8}", theme::runtime_text(r.runtime)),
        t.runtime(r.runtime),
    ));
    spans.push(Span::raw(format!("{:<13}", last_text(r, app))));
    let (why, wstyle) = why(r, t);
    spans.push(Span::styled(why, wstyle));
    let line = Line::from(spans);
    if selected {
        line.style(t.selected())
    } else {
        line
    }
}

/// "4s ago 1.2s": since the last run started, and how long it took.
fn last_text(r: &ResourceView, app: &App) -> String {
    match &r.last_run {
        None => "-".into(),
        Some(run) => {
            let ago = theme::age(app.now.duration_since(run.started).unwrap_or_default());
            match run.took {
                Some(d) => format!("{ago} ago {}", theme::took(d)),
                None => format!("{ago} ago …"),
            }
        }
    }
}

/// Why it waits, else why it failed, else why it last ran.
fn why(r: &ResourceView, t: Theme) -> (String, ratatui::style::Style) {
    if r.disabled {
        return ("disabled".into(), t.dim());
    }
    if let Some(h) = &r.hold {
        return (h.clone(), t.warn());
    }
    if let Some(e) = &r.error {
        return (e.lines().next().unwrap_or_default().to_owned(), t.error());
    }
    match &r.last_run {
        Some(run) => (run.reason.clone(), ratatui::style::Style::default()),
        None => (String::new(), ratatui::style::Style::default()),
    }
}

fn detail_line(r: &ResourceView, t: Theme) -> Line<'static> {
    let mode = match r.trigger_mode {
        TriggerMode::Auto => "auto",
        TriggerMode::Manual => "manual",
    };
    let links = if r.endpoints.is_empty() {
        "no endpoints".to_owned()
    } else {
        r.endpoints.join("  ")
    };
    Line::from(vec![
        Span::styled(format!("  {} ", r.name), t.title()),
        Span::styled(format!("· trigger {mode} · "), t.dim()),
        Span::raw(links),
    ])
}
