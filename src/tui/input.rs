//! Keys and mouse events to intents: pure, so every binding is tested without a terminal.
//!
//! The mapping depends only on the mode (what has the keyboard: the list, the
//! focused logs, the filter prompt, the help screen). What an intent does to the app
//! or the engine is decided in `app.rs`.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

/// Who has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Moving through resources; the log pane shows every resource.
    #[default]
    List,
    /// The log pane shows the selected resource and takes most of the screen.
    Logs,
    /// Typing a log filter.
    Filter,
    Help,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Up,
    Down,
    /// Show the selected resource's logs (enter).
    FocusLogs,
    /// Back to the list (esc).
    Back,
    Trigger,
    ToggleManual,
    ToggleEnabled,
    /// Cycle the log source: all, build, runtime.
    CycleSource,
    ScrollUp(u16),
    ScrollDown(u16),
    PageUp,
    PageDown,
    /// Oldest line (g).
    Top,
    /// Newest line, and follow the tail again (G).
    Bottom,
    StartFilter,
    FilterChar(char),
    FilterBackspace,
    /// Keep the filter and leave the prompt.
    FilterAccept,
    /// Clear the filter and leave the prompt.
    FilterCancel,
    ToggleHelp,
    Quit,
}

/// Lines one mouse wheel notch scrolls.
pub const WHEEL_LINES: u16 = 3;

pub fn intent(key: KeyEvent, mode: Mode) -> Option<Intent> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Intent::Quit);
    }
    match mode {
        Mode::Filter => filter_intent(key),
        Mode::Help => Some(Intent::ToggleHelp),
        Mode::List | Mode::Logs if ctrl => ctrl_intent(key.code),
        Mode::List | Mode::Logs => browse_intent(key.code, mode),
    }
}

fn filter_intent(key: KeyEvent) -> Option<Intent> {
    match key.code {
        KeyCode::Enter => Some(Intent::FilterAccept),
        KeyCode::Esc => Some(Intent::FilterCancel),
        KeyCode::Backspace => Some(Intent::FilterBackspace),
        KeyCode::Char(c) => Some(Intent::FilterChar(c)),
        _ => None,
    }
}

/// Emacs/less-style scrolling that Tilt users reach for.
fn ctrl_intent(code: KeyCode) -> Option<Intent> {
    match code {
        KeyCode::Char('u') | KeyCode::Char('b') => Some(Intent::PageUp),
        KeyCode::Char('d') | KeyCode::Char('f') => Some(Intent::PageDown),
        _ => None,
    }
}

fn browse_intent(code: KeyCode, mode: Mode) -> Option<Intent> {
    // In the focused logs, j/k scroll the log; in the list they move the selection.
    let (up, down) = match mode {
        Mode::Logs => (Intent::ScrollUp(1), Intent::ScrollDown(1)),
        _ => (Intent::Up, Intent::Down),
    };
    Some(match code {
        KeyCode::Char('k') | KeyCode::Up => up,
        KeyCode::Char('j') | KeyCode::Down => down,
        KeyCode::Enter => Intent::FocusLogs,
        KeyCode::Esc => Intent::Back,
        KeyCode::Char('t') | KeyCode::Char('r') => Intent::Trigger,
        KeyCode::Char('m') => Intent::ToggleManual,
        KeyCode::Char('d') => Intent::ToggleEnabled,
        KeyCode::Char('s') => Intent::CycleSource,
        KeyCode::PageUp => Intent::PageUp,
        KeyCode::PageDown => Intent::PageDown,
        KeyCode::Char('g') | KeyCode::Home => Intent::Top,
        KeyCode::Char('G') | KeyCode::End => Intent::Bottom,
        KeyCode::Char('/') => Intent::StartFilter,
        KeyCode::Char('?') => Intent::ToggleHelp,
        KeyCode::Char('q') => Intent::Quit,
        _ => return None,
    })
}

/// The wheel scrolls the logs wherever the pointer is.
pub fn mouse_intent(ev: MouseEvent) -> Option<Intent> {
    match ev.kind {
        MouseEventKind::ScrollUp => Some(Intent::ScrollUp(WHEEL_LINES)),
        MouseEventKind::ScrollDown => Some(Intent::ScrollDown(WHEEL_LINES)),
        _ => None,
    }
}
