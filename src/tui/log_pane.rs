//! The log pane: every resource interleaved with name prefixes, or the selected one;
//! filtered by source and text; follows the tail unless scrolled up.
//!
//! Lines are cut at the pane's width rather than wrapped, so one log line is one
//! screen line and scrolling by lines is exact.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::app::App;
use super::theme::Theme;
use crate::process::Stream;
use crate::store::view::{LogEntry, Snapshot};

const TILTFILE: &str = "(Tiltfile)";
/// Widest name prefix in the interleaved view.
const PREFIX_MAX: usize = 16;

pub fn draw(f: &mut Frame, area: Rect, app: &App, snap: &Snapshot) {
    let t = Theme { color: app.color };
    let lower = app.filter.to_lowercase();
    let filter = app.log_filter(snap, &lower);
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(t.dim())
        .title(Span::styled(title(app, filter.resource), t.title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let height = usize::from(inner.height);
    let matching: Vec<&LogEntry> = app.logs.matching(filter).collect();
    if matching.is_empty() {
        let text = if app.logs.is_empty() {
            "No logs yet."
        } else {
            "No log lines match."
        };
        f.render_widget(Paragraph::new(Line::styled(text, t.dim())), inner);
        return;
    }
    let scroll = app.scroll.min(matching.len().saturating_sub(1));
    // Scrolled to the oldest lines (`g`), the pane still shows a full page of them.
    let end = (matching.len() - scroll).max(height.min(matching.len()));
    let start = end.saturating_sub(height);
    let prefix = filter.resource.is_none().then(|| prefix_width(snap));
    let lines: Vec<Line> = matching[start..end]
        .iter()
        .map(|e| log_line(e, prefix, t))
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// " logs: api · build · filter "err" · 12 more below ".
fn title(app: &App, resource: Option<&str>) -> String {
    let mut s = format!(" logs: {}", resource.unwrap_or("all resources"));
    s.push_str(&format!(" · {}", app.sources.label()));
    if !app.filter.is_empty() {
        s.push_str(&format!(" · filter \"{}\"", app.filter));
    }
    if app.scroll > 0 {
        s.push_str(&format!(" · {} more below (G)", app.scroll));
    }
    s.push(' ');
    s
}

fn prefix_width(snap: &Snapshot) -> usize {
    snap.resources
        .iter()
        .map(|r| r.name.chars().count())
        .chain([TILTFILE.len()])
        .max()
        .unwrap_or(TILTFILE.len())
        .min(PREFIX_MAX)
}

fn log_line<'a>(e: &'a LogEntry, prefix: Option<usize>, t: Theme) -> Line<'a> {
    let mut spans = Vec::with_capacity(3);
    if let Some(w) = prefix {
        let name: String = e
            .resource
            .as_deref()
            .unwrap_or(TILTFILE)
            .chars()
            .take(w)
            .collect();
        spans.push(Span::styled(format!("{name:>w$} │ "), t.dim()));
    }
    match e.stream {
        Stream::System => spans.push(Span::styled(format!("• {}", e.text), t.system())),
        Stream::Stdout | Stream::Stderr => {
            spans.push(Span::styled(e.text.as_str(), t.log_line(&e.text)))
        }
    }
    Line::from(spans)
}
