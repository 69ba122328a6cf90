//! The UI's own state (selection, scroll, mode, filter, logs) and what intents do to it.
//!
//! [`App::apply`] is the UI's reducer: it changes only the app and returns the
//! engine action an intent stands for (trigger, enable, trigger mode, quit). The
//! engine's state arrives as snapshots; the app never changes it.

use std::time::SystemTime;

use super::input::{Intent, Mode};
use super::logstore::{LogFilter, LogStore, Sources};
use super::rows::resource_rows;
use crate::model::{ResourceName, TriggerMode};
use crate::store::Intent as EngineIntent;
use crate::store::view::{LogEntry, ResourceView, Snapshot};

#[derive(Debug, Clone)]
pub struct App {
    pub mode: Mode,
    /// Index among the resource rows of the list (a resource with two labels has two).
    pub selected: usize,
    /// Lines scrolled up from the newest; 0 follows the tail.
    pub scroll: usize,
    /// The log filter as typed.
    pub filter: String,
    pub sources: Sources,
    pub logs: LogStore,
    /// The time ages are shown against (injected: draw never reads a clock).
    pub now: SystemTime,
    /// Spinner frame.
    pub tick: usize,
    /// False under `NO_COLOR`: no colours and no other styling either.
    pub color: bool,
    /// Lines PgUp/PgDn move (the log pane's height, set on each draw).
    pub page: u16,
    /// The mode the help screen returns to.
    before_help: Mode,
    /// Quit was asked for; the engine is stopping everything.
    pub quitting: bool,
}

impl App {
    pub fn new(now: SystemTime, color: bool) -> Self {
        Self {
            mode: Mode::List,
            selected: 0,
            scroll: 0,
            filter: String::new(),
            sources: Sources::All,
            logs: LogStore::default(),
            now,
            tick: 0,
            color,
            page: 10,
            before_help: Mode::List,
            quitting: false,
        }
    }

    /// The resource under the cursor.
    pub fn selected<'s>(&self, snap: &'s Snapshot) -> Option<&'s ResourceView> {
        let rows = resource_rows(snap);
        let i = rows.get(self.selected.min(rows.len().saturating_sub(1)))?;
        snap.resources.get(*i)
    }

    /// What the log pane shows now.
    pub fn log_filter<'s>(&'s self, snap: &'s Snapshot, lower: &'s str) -> LogFilter<'s> {
        let resource = match self.mode {
            Mode::Logs => self.selected(snap).map(|r| r.name.as_str()),
            Mode::Help | Mode::Filter if self.before_help == Mode::Logs => {
                self.selected(snap).map(|r| r.name.as_str())
            }
            _ => None,
        };
        LogFilter {
            resource,
            sources: self.sources,
            text: lower,
        }
    }

    fn visible_count(&self, snap: &Snapshot) -> usize {
        let lower = self.filter.to_lowercase();
        self.logs.matching(self.log_filter(snap, &lower)).count()
    }

    /// Takes new log lines; a scrolled-up pane stays on the lines it shows.
    pub fn push_logs(&mut self, entries: Vec<LogEntry>, snap: &Snapshot) {
        let lower = self.filter.to_lowercase();
        let shown = if self.scroll > 0 {
            let f = self.log_filter(snap, &lower);
            entries.iter().filter(|e| f.admits(e)).count()
        } else {
            0
        };
        for e in entries {
            self.logs.push(e);
        }
        self.scroll += shown;
    }

    /// Applies an intent; returns the action to send to the engine, if any.
    pub fn apply(&mut self, intent: Intent, snap: &Snapshot) -> Option<EngineIntent> {
        match intent {
            Intent::Up => self.move_by(-1, snap),
            Intent::Down => self.move_by(1, snap),
            Intent::FocusLogs => self.enter(Mode::Logs),
            // Esc in the list clears a kept filter; elsewhere it goes back to the list.
            Intent::Back if self.mode == Mode::List && !self.filter.is_empty() => {
                self.set_filter(String::clear);
            }
            Intent::Back => self.enter(Mode::List),
            Intent::Trigger => return self.engine_intent(intent, snap),
            Intent::ToggleManual | Intent::ToggleEnabled => {
                return self.engine_intent(intent, snap);
            }
            Intent::CycleSource => {
                self.sources = self.sources.next();
                self.scroll = 0;
            }
            Intent::ScrollUp(n) => self.scroll_up(usize::from(n), snap),
            Intent::ScrollDown(n) => self.scroll = self.scroll.saturating_sub(usize::from(n)),
            Intent::PageUp => self.scroll_up(usize::from(self.page.max(1)), snap),
            Intent::PageDown => {
                self.scroll = self.scroll.saturating_sub(usize::from(self.page.max(1)))
            }
            Intent::Top => self.scroll_up(usize::MAX, snap),
            Intent::Bottom => self.scroll = 0,
            Intent::StartFilter => {
                // A new `/` starts a new filter, as in less and vim.
                self.set_filter(String::clear);
                self.before_help = self.mode;
                self.mode = Mode::Filter;
            }
            Intent::FilterChar(c) => self.set_filter(|f| f.push(c)),
            Intent::FilterBackspace => self.set_filter(|f| {
                f.pop();
            }),
            Intent::FilterAccept => self.mode = self.before_help,
            Intent::FilterCancel => {
                self.set_filter(String::clear);
                self.mode = self.before_help;
            }
            Intent::ToggleHelp => self.toggle_help(),
            Intent::Quit => {
                self.quitting = true;
                return Some(EngineIntent::Quit);
            }
        }
        None
    }

    /// The mode help or the filter prompt goes back to.
    pub fn returns_to(&self) -> Mode {
        self.before_help
    }

    fn enter(&mut self, mode: Mode) {
        if self.mode != mode {
            self.mode = mode;
            self.scroll = 0;
        }
    }

    fn toggle_help(&mut self) {
        if self.mode == Mode::Help {
            self.mode = self.before_help;
        } else {
            self.before_help = self.mode;
            self.mode = Mode::Help;
        }
    }

    fn set_filter(&mut self, edit: impl FnOnce(&mut String)) {
        edit(&mut self.filter);
        self.scroll = 0;
    }

    fn move_by(&mut self, delta: isize, snap: &Snapshot) {
        let n = resource_rows(snap).len();
        if n == 0 {
            self.selected = 0;
            return;
        }
        let cur = self.selected.min(n - 1);
        self.selected = cur.saturating_add_signed(delta).min(n - 1);
    }

    fn scroll_up(&mut self, n: usize, snap: &Snapshot) {
        let max = self.visible_count(snap).saturating_sub(1);
        self.scroll = self.scroll.saturating_add(n).min(max);
    }

    /// Intents about the selected resource become requests to the engine.
    fn engine_intent(&self, intent: Intent, snap: &Snapshot) -> Option<EngineIntent> {
        let r = self.selected(snap)?;
        let resource = ResourceName::new(r.name.clone());
        match intent {
            Intent::Trigger => Some(EngineIntent::Trigger { resource }),
            Intent::ToggleEnabled => Some(EngineIntent::SetEnabled {
                resource,
                enabled: r.disabled,
            }),
            Intent::ToggleManual => Some(EngineIntent::SetTriggerMode {
                resource,
                mode: match r.trigger_mode {
                    TriggerMode::Auto => TriggerMode::Manual,
                    TriggerMode::Manual => TriggerMode::Auto,
                },
            }),
            _ => None,
        }
    }
}
