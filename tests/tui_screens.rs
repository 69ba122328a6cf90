//! Literal screens of the terminal UI, drawn on ratatui's `TestBackend` from
//! hand-built snapshots, with colours off (`NO_COLOR`) and the clock injected.

use std::time::{Duration, SystemTime};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use stilt::model::TriggerMode;
use stilt::process::Stream;
use stilt::store::LogSource;
use stilt::store::view::{LogEntry, ResourceView, RunView, RuntimeStatus, Snapshot, UpdateStatus};
use stilt::tui::{App, Intent};

/// A resource that ran once, 65 s before "now", for 1.2 s, and is ok.
fn res(name: &str, t0: SystemTime) -> ResourceView {
    ResourceView {
        name: name.into(),
        kind: "local".into(),
        labels: vec![],
        update: UpdateStatus::Ok,
        runtime: RuntimeStatus::NotApplicable,
        last_run: Some(RunView {
            reason: "initial run".into(),
            started: t0,
            took: Some(Duration::from_millis(1200)),
            error: None,
        }),
        earlier_runs: Vec::new(),
        container: None,
        hold: None,
        error: None,
        endpoints: vec![],
        disabled: false,
        trigger_mode: TriggerMode::Auto,
    }
}

fn log(seq: u64, resource: Option<&str>, stream: Stream, text: &str) -> LogEntry {
    LogEntry {
        seq,
        resource: resource.map(str::to_owned),
        stream,
        source: LogSource::Build,
        text: text.into(),
    }
}

fn app(t0: SystemTime) -> App {
    App::new(t0 + Duration::from_secs(65), false)
}

fn render(app: &App, snap: &Snapshot, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| stilt::tui::draw(f, app, snap)).unwrap();
    term
}

/// api (backend, serving, link), db (backend, running now), worker (failed, waits on db),
/// docs (manual, changes waiting), old (disabled).
fn mixed(t0: SystemTime) -> Snapshot {
    let mut api = res("api", t0);
    api.labels = vec!["backend".into()];
    api.runtime = RuntimeStatus::Ok;
    api.last_run.as_mut().expect("ran").reason =
        "3 files changed: src/app.py, src/db.py, ...".into();
    api.endpoints = vec!["http://localhost:8000 (api)".into()];
    let mut db = res("db", t0);
    db.labels = vec!["backend".into()];
    db.update = UpdateStatus::InProgress;
    db.runtime = RuntimeStatus::Pending;
    db.last_run = Some(RunView {
        reason: "triggered".into(),
        started: t0 + Duration::from_secs(61),
        took: None,
        error: None,
    });
    let mut worker = res("worker", t0);
    worker.update = UpdateStatus::Error;
    worker.error = Some("cmd exit code 2".into());
    worker.hold = Some("waiting on db".into());
    let mut docs = res("docs", t0);
    docs.trigger_mode = TriggerMode::Manual;
    docs.hold = Some("changes waiting for a manual trigger".into());
    let mut old = res("old", t0);
    old.disabled = true;
    Snapshot {
        resources: vec![api, db, worker, docs, old],
        ..Snapshot::default()
    }
}

fn mixed_logs(app: &mut App, snap: &Snapshot) {
    app.push_logs(
        vec![
            log(1, None, Stream::Stdout, "loading Tiltfile"),
            log(2, Some("api"), Stream::System, "▶ run #1: initial run"),
            log(3, Some("api"), Stream::Stdout, "listening on :8000"),
            log(4, Some("worker"), Stream::Stderr, "Error: no such table"),
            log(5, Some("db"), Stream::Stdout, "WARNING: slow start"),
        ],
        snap,
    );
}

#[test]
fn empty_screen_while_the_tiltfile_loads() {
    let t0 = SystemTime::now();
    let snap = Snapshot {
        tiltfile_loading: true,
        ..Snapshot::default()
    };
    let term = render(&app(t0), &snap, 80, 24);
    term.backend().assert_buffer_lines(EMPTY);
}

#[test]
fn mixed_states_at_80x24() {
    let t0 = SystemTime::now();
    let snap = mixed(t0);
    let mut app = app(t0);
    mixed_logs(&mut app, &snap);
    let term = render(&app, &snap, 80, 24);
    term.backend().assert_buffer_lines(MIXED);
}

#[test]
fn tiltfile_error_shows_in_the_header() {
    let t0 = SystemTime::now();
    let mut snap = mixed(t0);
    snap.resources.truncate(1);
    snap.tiltfile_error = Some("Tiltfile:3:1: name 'locl_resource' is not defined".into());
    let term = render(&app(t0), &snap, 80, 12);
    term.backend().assert_buffer_lines(ERROR);
}

#[test]
fn a_critical_problem_shows_in_the_header_under_the_counts() {
    let t0 = SystemTime::now();
    let mut snap = mixed(t0);
    snap.resources.truncate(1);
    snap.critical = vec!["cannot watch /src/big: reached the inotify watch limit".into()];
    let term = render(&app(t0), &snap, 80, 12);
    let buffer = term.backend().buffer();
    let line = |y: u16| -> String {
        (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol())
            .collect::<String>()
    };
    assert!(line(0).contains("1 ok"), "{:?}", line(0));
    assert!(
        line(1).starts_with(" ERROR: cannot watch /src/big: reached the inotify watch limit"),
        "{:?}",
        line(1)
    );
}

#[test]
fn narrow_terminal_drops_the_kind_column() {
    let t0 = SystemTime::now();
    let snap = mixed(t0);
    let mut app = app(t0);
    mixed_logs(&mut app, &snap);
    let term = render(&app, &snap, 60, 16);
    term.backend().assert_buffer_lines(NARROW);
}

#[test]
fn focused_logs_show_the_selected_resource_filtered() {
    let t0 = SystemTime::now();
    let snap = mixed(t0);
    let mut app = app(t0);
    mixed_logs(&mut app, &snap);
    app.apply(Intent::FocusLogs, &snap);
    app.apply(Intent::StartFilter, &snap);
    app.apply(Intent::FilterChar('L'), &snap);
    app.apply(Intent::FilterAccept, &snap);
    let term = render(&app, &snap, 60, 10);
    term.backend().assert_buffer_lines(FOCUSED);
}

#[test]
fn errors_are_red_when_colour_is_on() {
    let t0 = SystemTime::now();
    let snap = mixed(t0);
    let mut app = App::new(t0 + Duration::from_secs(65), true);
    mixed_logs(&mut app, &snap);
    let term = render(&app, &snap, 80, 24);
    let buf = term.backend().buffer();
    let find = |text: &str| {
        (0..buf.area.height)
            .find_map(|y| {
                let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
                line.find(text)
                    .map(|i| (line[..i].chars().count() as u16, y))
            })
            .unwrap()
    };
    let (x, y) = find("Error: no such table");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    let (x, y) = find("WARNING: slow start");
    assert_eq!(buf[(x, y)].fg, Color::Yellow);
    let (x, y) = find("✘ worker");
    assert_eq!(buf[(x, y)].fg, Color::Red);
}

const EMPTY: [&str; 24] = [
    " stilt  ✔ 0 ok  ✘ 0 error  … 0 pending  loading Tiltfile…                       ",
    "Loading the Tiltfile…                                                           ",
    "                                                                                ",
    "                                                                                ",
    " logs: all resources · build+runtime ───────────────────────────────────────────",
    "No logs yet.                                                                    ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    " j/k move  enter logs  t trigger  m manual  d disable  / filter  ? help  q quit ",
];
const MIXED: [&str; 24] = [
    " stilt  ✔ 2 ok  ✘ 1 error  … 1 pending  ⊘ 1 disabled                            ",
    "    NAME   KIND    UPDATE      RUNTIME LAST         WHY                         ",
    "  ── backend                                                                    ",
    "▶ ✔ api    local   ok          ok      1m ago 1.2s  3 files changed: src/app.py,",
    "  ⠋ db     local   in progress pending 4s ago …     triggered                   ",
    "  ── unlabeled                                                                  ",
    "  ✘ worker local   error       n/a     1m ago 1.2s  waiting on db               ",
    "  ✔ docs   local   ok          n/a     1m ago 1.2s  changes waiting for a manual",
    "  ⊘ old    local   ok          n/a     1m ago 1.2s  disabled                    ",
    "  api · trigger auto · http://localhost:8000 (api)                              ",
    " logs: all resources · build+runtime ───────────────────────────────────────────",
    "(Tiltfile) │ loading Tiltfile                                                   ",
    "       api │ • ▶ run #1: initial run                                            ",
    "       api │ listening on :8000                                                 ",
    "    worker │ Error: no such table                                               ",
    "        db │ WARNING: slow start                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    " j/k move  enter logs  t trigger  m manual  d disable  / filter  ? help  q quit ",
];
const ERROR: [&str; 12] = [
    " stilt  ✔ 1 ok  ✘ 0 error  … 0 pending                                          ",
    " Tiltfile error: Tiltfile:3:1: name 'locl_resource' is not defined              ",
    "    NAME KIND    UPDATE      RUNTIME LAST         WHY                           ",
    "  ── backend                                                                    ",
    "▶ ✔ api  local   ok          ok      1m ago 1.2s  3 files changed: src/app.py, s",
    "  api · trigger auto · http://localhost:8000 (api)                              ",
    " logs: all resources · build+runtime ───────────────────────────────────────────",
    "No logs yet.                                                                    ",
    "                                                                                ",
    "                                                                                ",
    "                                                                                ",
    " j/k move  enter logs  t trigger  m manual  d disable  / filter  ? help  q quit ",
];
const NARROW: [&str; 16] = [
    " stilt  ✔ 2 ok  ✘ 1 error  … 1 pending  ⊘ 1 disabled        ",
    "    NAME   UPDATE      RUNTIME LAST         WHY             ",
    "  ── backend                                                ",
    "▶ ✔ api    ok          ok      1m ago 1.2s  3 files changed:",
    "  ⠋ db     in progress pending 4s ago …     triggered       ",
    "  ── unlabeled                                              ",
    "  ✘ worker error       n/a     1m ago 1.2s  waiting on db   ",
    "  ✔ docs   ok          n/a     1m ago 1.2s  changes waiting ",
    "  api · trigger auto · http://localhost:8000 (api)          ",
    " logs: all resources · build+runtime ───────────────────────",
    "(Tiltfile) │ loading Tiltfile                               ",
    "       api │ • ▶ run #1: initial run                        ",
    "       api │ listening on :8000                             ",
    "    worker │ Error: no such table                           ",
    "        db │ WARNING: slow start                            ",
    " j/k move  enter logs  t trigger  m manual  d disable  / fil",
];
const FOCUSED: [&str; 10] = [
    " stilt  ✔ 2 ok  ✘ 1 error  … 1 pending  ⊘ 1 disabled        ",
    "    NAME   UPDATE      RUNTIME LAST         WHY             ",
    "  ── backend                                                ",
    "▶ ✔ api    ok          ok      1m ago 1.2s  3 files changed:",
    "  api · trigger auto · http://localhost:8000 (api)          ",
    " logs: api · build+runtime · filter \"L\" ────────────────────",
    "• ▶ run #1: initial run                                     ",
    "listening on :8000                                          ",
    "                                                            ",
    " j/k scroll  esc back  t trigger  s source  / filter  g/G en",
];

#[test]
fn tiny_terminals_draw_without_panicking() {
    let t0 = SystemTime::now();
    let snap = mixed(t0);
    let mut app = app(t0);
    mixed_logs(&mut app, &snap);
    for mode in [Intent::FocusLogs, Intent::ToggleHelp, Intent::StartFilter] {
        let mut app = app.clone();
        app.apply(mode, &snap);
        for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 8), (200, 60)] {
            render(&app, &snap, w, h);
        }
    }
}

#[test]
fn g_shows_a_full_page_from_the_oldest_line() {
    let t0 = SystemTime::now();
    let mut snap = mixed(t0);
    snap.resources.truncate(1);
    let mut app = app(t0);
    let lines: Vec<LogEntry> = (1..=40)
        .map(|i| log(i, Some("api"), Stream::Stdout, &format!("line {i:02}")))
        .collect();
    app.push_logs(lines, &snap);
    app.apply(Intent::Top, &snap);
    let term = render(&app, &snap, 80, 24);
    let buffer = term.backend().buffer();
    let rows: Vec<String> = (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect();
    let shown: Vec<&String> = rows.iter().filter(|r| r.contains("│ line ")).collect();
    assert!(shown.len() > 1, "{rows:#?}");
    assert!(shown[0].contains("line 01"), "{rows:#?}");
    assert!(shown[1].contains("line 02"), "{rows:#?}");
}
