//! Keys and mouse events to intents (pure), and what intents do: to the UI's own
//! state, and as actions sent to the engine.

use std::time::SystemTime;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use stilt::model::TriggerMode;
use stilt::process::Stream;
use stilt::store::view::{LogEntry, ResourceView, RuntimeStatus, Snapshot, UpdateStatus};
use stilt::store::{Intent as EngineIntent, LogSource};
use stilt::tui::input::{WHEEL_LINES, intent, mouse_intent};
use stilt::tui::{App, Intent, Mode};

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn res(name: &str, labels: &[&str]) -> ResourceView {
    ResourceView {
        name: name.into(),
        kind: "local".into(),
        labels: labels.iter().map(|l| l.to_string()).collect(),
        update: UpdateStatus::Ok,
        runtime: RuntimeStatus::NotApplicable,
        last_run: None,
        earlier_runs: Vec::new(),
        container: None,
        hold: None,
        error: None,
        endpoints: vec![],
        disabled: false,
        trigger_mode: TriggerMode::Auto,
    }
}

fn snap(resources: Vec<ResourceView>) -> Snapshot {
    Snapshot {
        resources,
        ..Snapshot::default()
    }
}

fn selected_name(app: &App, s: &Snapshot) -> String {
    app.selected(s).expect("a selection").name.clone()
}

#[test]
fn list_keys_map_to_tilt_style_intents() {
    let m = Mode::List;
    assert_eq!(intent(key('j'), m), Some(Intent::Down));
    assert_eq!(intent(code(KeyCode::Down), m), Some(Intent::Down));
    assert_eq!(intent(key('k'), m), Some(Intent::Up));
    assert_eq!(intent(code(KeyCode::Up), m), Some(Intent::Up));
    assert_eq!(intent(code(KeyCode::Enter), m), Some(Intent::FocusLogs));
    assert_eq!(intent(key('t'), m), Some(Intent::Trigger));
    assert_eq!(intent(key('r'), m), Some(Intent::Trigger));
    assert_eq!(intent(key('m'), m), Some(Intent::ToggleManual));
    assert_eq!(intent(key('d'), m), Some(Intent::ToggleEnabled));
    assert_eq!(intent(key('/'), m), Some(Intent::StartFilter));
    assert_eq!(intent(key('?'), m), Some(Intent::ToggleHelp));
    assert_eq!(intent(key('q'), m), Some(Intent::Quit));
    assert_eq!(intent(key('g'), m), Some(Intent::Top));
    assert_eq!(intent(key('G'), m), Some(Intent::Bottom));
    assert_eq!(intent(code(KeyCode::PageUp), m), Some(Intent::PageUp));
    assert_eq!(intent(code(KeyCode::PageDown), m), Some(Intent::PageDown));
    assert_eq!(intent(key('s'), m), Some(Intent::CycleSource));
    assert_eq!(intent(key('x'), m), None);
}

#[test]
fn ctrl_c_quits_in_every_mode() {
    for m in [Mode::List, Mode::Logs, Mode::Filter, Mode::Help] {
        assert_eq!(intent(ctrl('c'), m), Some(Intent::Quit), "{m:?}");
    }
}

#[test]
fn in_focused_logs_j_and_k_scroll_instead_of_moving() {
    assert_eq!(intent(key('j'), Mode::Logs), Some(Intent::ScrollDown(1)));
    assert_eq!(intent(key('k'), Mode::Logs), Some(Intent::ScrollUp(1)));
    assert_eq!(intent(code(KeyCode::Esc), Mode::Logs), Some(Intent::Back));
}

#[test]
fn the_filter_prompt_takes_every_character_even_q() {
    let m = Mode::Filter;
    assert_eq!(intent(key('q'), m), Some(Intent::FilterChar('q')));
    assert_eq!(intent(key('t'), m), Some(Intent::FilterChar('t')));
    assert_eq!(
        intent(code(KeyCode::Backspace), m),
        Some(Intent::FilterBackspace)
    );
    assert_eq!(intent(code(KeyCode::Enter), m), Some(Intent::FilterAccept));
    assert_eq!(intent(code(KeyCode::Esc), m), Some(Intent::FilterCancel));
}

#[test]
fn any_key_closes_help_and_q_there_does_not_quit() {
    assert_eq!(intent(key('q'), Mode::Help), Some(Intent::ToggleHelp));
    assert_eq!(intent(key('z'), Mode::Help), Some(Intent::ToggleHelp));
}

#[test]
fn key_releases_are_ignored() {
    let mut k = key('q');
    k.kind = KeyEventKind::Release;
    assert_eq!(intent(k, Mode::List), None);
}

#[test]
fn the_mouse_wheel_scrolls_the_logs() {
    let ev = |kind| MouseEvent {
        kind,
        column: 0,
        row: 0,
        modifiers: KeyModifiers::NONE,
    };
    assert_eq!(
        mouse_intent(ev(MouseEventKind::ScrollUp)),
        Some(Intent::ScrollUp(WHEEL_LINES))
    );
    assert_eq!(
        mouse_intent(ev(MouseEventKind::ScrollDown)),
        Some(Intent::ScrollDown(WHEEL_LINES))
    );
    assert_eq!(mouse_intent(ev(MouseEventKind::Moved)), None);
}

#[test]
fn moving_follows_the_grouped_order_and_stops_at_the_ends() {
    // Grouped: backend: api, db; unlabeled: tools.
    let s = snap(vec![
        res("tools", &[]),
        res("api", &["backend"]),
        res("db", &["backend"]),
    ]);
    let mut app = App::new(SystemTime::now(), false);
    assert_eq!(selected_name(&app, &s), "api");
    app.apply(Intent::Up, &s);
    assert_eq!(selected_name(&app, &s), "api");
    app.apply(Intent::Down, &s);
    app.apply(Intent::Down, &s);
    app.apply(Intent::Down, &s);
    assert_eq!(selected_name(&app, &s), "tools");
}

#[test]
fn trigger_enable_and_mode_intents_become_actions_on_the_selected_resource() {
    let mut manual = res("db", &[]);
    manual.trigger_mode = TriggerMode::Manual;
    manual.disabled = true;
    let s = snap(vec![res("api", &[]), manual]);
    let mut app = App::new(SystemTime::now(), false);
    assert!(matches!(
        app.apply(Intent::Trigger, &s),
        Some(EngineIntent::Trigger { resource, .. }) if resource.as_str() == "api"
    ));
    assert!(matches!(
        app.apply(Intent::ToggleEnabled, &s),
        Some(EngineIntent::SetEnabled { resource, enabled: false }) if resource.as_str() == "api"
    ));
    assert!(matches!(
        app.apply(Intent::ToggleManual, &s),
        Some(EngineIntent::SetTriggerMode {
            mode: TriggerMode::Manual,
            ..
        })
    ));
    app.apply(Intent::Down, &s);
    assert!(matches!(
        app.apply(Intent::ToggleEnabled, &s),
        Some(EngineIntent::SetEnabled { resource, enabled: true }) if resource.as_str() == "db"
    ));
    assert!(matches!(
        app.apply(Intent::ToggleManual, &s),
        Some(EngineIntent::SetTriggerMode {
            mode: TriggerMode::Auto,
            ..
        })
    ));
}

#[test]
fn quit_sends_quit_and_marks_the_app_as_stopping() {
    let s = snap(vec![]);
    let mut app = App::new(SystemTime::now(), false);
    assert!(matches!(
        app.apply(Intent::Quit, &s),
        Some(EngineIntent::Quit)
    ));
    assert!(app.quitting);
}

#[test]
fn intents_on_an_empty_list_send_nothing() {
    let s = snap(vec![]);
    let mut app = App::new(SystemTime::now(), false);
    assert!(app.apply(Intent::Trigger, &s).is_none());
    assert!(app.apply(Intent::Down, &s).is_none());
}

fn line(seq: u64, text: &str) -> LogEntry {
    LogEntry {
        seq,
        resource: Some("api".into()),
        stream: Stream::Stdout,
        source: LogSource::Build,
        text: text.into(),
    }
}

#[test]
fn a_scrolled_up_pane_stays_put_when_lines_arrive_and_g_follows_again() {
    let s = snap(vec![res("api", &[])]);
    let mut app = App::new(SystemTime::now(), false);
    app.push_logs((1..=20).map(|i| line(i, "x")).collect(), &s);
    app.apply(Intent::ScrollUp(5), &s);
    app.push_logs(vec![line(21, "y"), line(22, "y")], &s);
    assert_eq!(app.scroll, 7);
    app.apply(Intent::Bottom, &s);
    assert_eq!(app.scroll, 0);
    app.apply(Intent::Top, &s);
    assert_eq!(app.scroll, 21, "the oldest line is at the top, not beyond");
}

#[test]
fn escape_in_the_filter_prompt_clears_the_filter() {
    let s = snap(vec![res("api", &[])]);
    let mut app = App::new(SystemTime::now(), false);
    app.apply(Intent::StartFilter, &s);
    assert_eq!(app.mode, Mode::Filter);
    app.apply(Intent::FilterChar('e'), &s);
    app.apply(Intent::FilterChar('r'), &s);
    app.apply(Intent::FilterBackspace, &s);
    assert_eq!(app.filter, "e");
    app.apply(Intent::FilterCancel, &s);
    assert_eq!((app.filter.as_str(), app.mode), ("", Mode::List));
}

#[test]
fn a_new_slash_starts_a_new_filter_and_escape_in_the_list_clears_a_kept_one() {
    let s = snap(vec![res("api", &[])]);
    let mut app = App::new(SystemTime::now(), false);
    for c in ['/', 'e', 'r', 'r'] {
        let i = if c == '/' {
            Intent::StartFilter
        } else {
            Intent::FilterChar(c)
        };
        app.apply(i, &s);
    }
    app.apply(Intent::FilterAccept, &s);
    assert_eq!((app.filter.as_str(), app.mode), ("err", Mode::List));
    app.apply(Intent::StartFilter, &s);
    app.apply(Intent::FilterChar('w'), &s);
    assert_eq!(
        app.filter, "w",
        "a new `/` does not append to the kept filter"
    );
    app.apply(Intent::FilterAccept, &s);
    app.apply(Intent::Back, &s);
    assert_eq!((app.filter.as_str(), app.mode), ("", Mode::List));
}

#[test]
fn the_filter_matches_stilts_own_lines_by_their_bullet() {
    let s = snap(vec![res("api", &[])]);
    let mut app = App::new(SystemTime::now(), false);
    let mut own = line(1, "run #1 succeeded");
    own.stream = Stream::System;
    app.push_logs(vec![own, line(2, "plain output")], &s);
    app.apply(Intent::StartFilter, &s);
    app.apply(Intent::FilterChar('•'), &s);
    let lower = app.filter.to_lowercase();
    let shown: Vec<&str> = app
        .logs
        .matching(app.log_filter(&s, &lower))
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(shown, ["run #1 succeeded"]);
}
