//! The full-screen terminal UI of `stilt up`.
//!
//! The UI runs as its own task and only reads: snapshots of engine state come in
//! through a `watch` channel (the latest wins) and new log lines through a bounded
//! channel (see `views::publish`, the engine side). What the user asks for goes back to
//! the engine as actions on its inbox. Drawing is a pure function of the [`App`] and
//! the [`Snapshot`], tested on ratatui's `TestBackend`; only `run` and `terminal`
//! touch the real terminal.

pub mod app;
pub mod input;
pub mod log_pane;
pub mod logstore;
pub mod resource_list;
pub mod rows;
pub mod run;
pub mod status_bar;
pub mod terminal;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

pub use crate::views::publish::Feed;
pub use app::App;
pub use input::{Intent, Mode};
pub use run::run;

use crate::store::view::Snapshot;

/// Lines the list gets when the logs have the focus.
const FOCUSED_LIST: u16 = 4;

/// Draws the whole screen: header, resource list, log pane, footer (and help on top).
pub fn draw(f: &mut Frame, app: &App, snap: &Snapshot) {
    let area = f.area();
    let rows = rows::rows(snap).len() as u16;
    // Column heading + rows + detail line; at most half the screen (less with focused logs).
    let wanted = rows.max(1) + 2;
    let list = match app.mode {
        Mode::Logs => wanted.min(FOCUSED_LIST),
        _ if app_mode_is_logs_behind(app) => wanted.min(FOCUSED_LIST),
        _ => wanted.min(area.height / 2),
    };
    let [header, list_area, logs, footer] = Layout::vertical([
        Constraint::Length(status_bar::header_height(snap)),
        Constraint::Length(list),
        Constraint::Min(2),
        Constraint::Length(1),
    ])
    .areas(area);
    status_bar::draw_header(f, header, app, snap);
    resource_list::draw(f, list_area, app, snap);
    log_pane::draw(f, logs, app, snap);
    status_bar::draw_footer(f, footer, app);
    if app.mode == Mode::Help {
        status_bar::draw_help(f, area, app);
    }
}

/// Help and the filter prompt keep the layout of the mode they were opened from.
fn app_mode_is_logs_behind(app: &App) -> bool {
    matches!(app.mode, Mode::Help | Mode::Filter) && app.returns_to() == Mode::Logs
}

/// The log pane's height for a terminal height (PgUp/PgDn move by it).
pub fn log_page(height: u16) -> u16 {
    (height / 2).max(1)
}
