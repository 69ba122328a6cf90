//! The header (counts, Tiltfile error, what the engine is doing), the footer (keys,
//! or the filter prompt) and the help screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::app::App;
use super::input::Mode;
use super::theme::Theme;
use crate::store::view::Snapshot;

/// Lines of a Tiltfile error the header shows.
pub const ERROR_LINES: usize = 3;

/// The header's height: one line, plus the Tiltfile error and the critical problems.
pub fn header_height(snap: &Snapshot) -> u16 {
    let error = snap
        .tiltfile_error
        .as_ref()
        .map_or(0, |e| e.lines().count().clamp(1, ERROR_LINES));
    let critical = snap.critical.len().min(ERROR_LINES);
    1 + (error + critical) as u16
}

pub fn draw_header(f: &mut Frame, area: Rect, app: &App, snap: &Snapshot) {
    let t = Theme { color: app.color };
    let c = snap.counts();
    let mut spans = vec![
        Span::styled(" stilt ", t.title()),
        Span::styled(format!(" ✔ {} ok ", c.ok), t.ok()),
        Span::styled(format!(" ✘ {} error ", c.error), t.error()),
        Span::styled(format!(" … {} pending ", c.pending), t.warn()),
    ];
    if c.disabled > 0 {
        spans.push(Span::styled(
            format!(" ⊘ {} disabled ", c.disabled),
            t.dim(),
        ));
    }
    let doing = if app.quitting || snap.quitting {
        " stopping everything…"
    } else if snap.tiltfile_loading {
        " loading Tiltfile…"
    } else {
        ""
    };
    spans.push(Span::styled(doing, t.warn()));
    let mut lines = vec![Line::from(spans)];
    if let Some(e) = &snap.tiltfile_error {
        for (i, l) in e.lines().take(ERROR_LINES).enumerate() {
            let text = if i == 0 {
                format!(" Tiltfile error: {l}")
            } else {
                format!(" {l}")
            };
            lines.push(Line::styled(text, t.error()));
        }
    }
    for p in snap.critical.iter().take(ERROR_LINES) {
        let first = p.lines().next().unwrap_or_default();
        lines.push(Line::styled(format!(" ERROR: {first}"), t.error()));
    }
    f.render_widget(Paragraph::new(lines), area);
}

pub fn draw_footer(f: &mut Frame, area: Rect, app: &App) {
    let t = Theme { color: app.color };
    let line = match app.mode {
        Mode::Filter => Line::from(vec![
            Span::styled(" filter: ", t.title()),
            Span::raw(format!("{}▏", app.filter)),
            Span::styled("  enter keep · esc clear", t.dim()),
        ]),
        Mode::Logs => Line::styled(
            " j/k scroll  esc back  t trigger  s source  / filter  g/G ends  ? help  q quit",
            t.dim(),
        ),
        Mode::Help => Line::styled(" any key closes the help", t.dim()),
        Mode::List => Line::styled(
            " j/k move  enter logs  t trigger  m manual  d disable  / filter  ? help  q quit",
            t.dim(),
        ),
    };
    f.render_widget(Paragraph::new(line), area);
}

const HELP: [(&str, &str); 15] = [
    ("j/k ↓/↑", "move through resources (scroll in focused logs)"),
    ("enter", "show the selected resource's logs"),
    ("esc", "back to all logs"),
    ("t or r", "trigger an update of the selected resource"),
    ("m", "toggle manual / auto trigger mode"),
    ("d", "disable / enable the selected resource"),
    ("s", "logs: build+runtime, build, runtime"),
    ("/", "filter log lines by text"),
    ("PgUp/PgDn", "scroll logs a page (or the mouse wheel)"),
    ("g / G", "oldest line / newest line, follow"),
    ("?", "this help (any key closes it)"),
    ("q, Ctrl-C", "quit: stop every resource and exit"),
    ("", ""),
    ("", "A reload of the Tiltfile keeps what m and d set."),
    ("", "NO_COLOR turns colours off."),
];

pub fn draw_help(f: &mut Frame, area: Rect, app: &App) {
    let t = Theme { color: app.color };
    let [row] = Layout::vertical([Constraint::Length(HELP.len() as u16 + 2)])
        .flex(Flex::Center)
        .areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(64)])
        .flex(Flex::Center)
        .areas(row);
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<11}"), t.title()),
                Span::raw(*what),
            ])
        })
        .collect();
    f.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" keys ", t.title()));
    f.render_widget(Paragraph::new(lines).block(block), rect);
}
