use super::*;
use notify::event::Flag;
use std::time::Duration;

/// A state configured on a fresh temp dir (real inotify).
fn configured() -> (
    tempfile::TempDir,
    PathBuf,
    State,
    tokio::sync::mpsc::UnboundedReceiver<WatchEvent>,
) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let (out, rx) = tokio::sync::mpsc::unbounded_channel();
    let (handler_tx, _handler_rx) = std::sync::mpsc::channel();
    let mut state = State::new(out);
    let cfg = WatchConfig {
        roots: vec![root.clone()],
        base_dir: root.clone(),
        use_gitignore: true,
        extra_ignores: vec![],
        quiet: Duration::from_millis(15),
        max_wait: Duration::from_secs(1),
    };
    state.configure(cfg, &handler_tx).unwrap();
    (dir, root, state, rx)
}

#[test]
fn queue_overflow_reports_an_error_and_every_root() {
    let (_dir, root, mut state, mut rx) = configured();
    let t0 = Instant::now();
    let overflow = notify::Event::new(EventKind::Other).set_flag(Flag::Rescan);
    state.on_notify(Ok(overflow), t0);
    assert!(matches!(
        rx.try_recv().unwrap(),
        WatchEvent::Error(WatchError::EventsDropped { roots: 1 })
    ));
    state.flush(t0 + Duration::from_millis(15));
    match rx.try_recv().unwrap() {
        WatchEvent::Changed(paths) => assert_eq!(paths, vec![root]),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn access_events_are_dropped_and_writes_kept() {
    let (_dir, root, mut state, _rx) = configured();
    let path = root.join("main.go");
    let open = notify::Event::new(EventKind::Access(notify::event::AccessKind::Any))
        .add_path(path.clone());
    state.on_notify(Ok(open), Instant::now());
    assert_eq!(state.deadline(), None);
    let write = notify::Event::new(EventKind::Modify(ModifyKind::Data(
        notify::event::DataChange::Any,
    )))
    .add_path(path);
    state.on_notify(Ok(write), Instant::now());
    assert!(state.deadline().is_some());
}

#[test]
fn backend_errors_are_forwarded() {
    let (_dir, _root, mut state, mut rx) = configured();
    let limit = notify::Error::new(notify::ErrorKind::MaxFilesWatch).add_path("/x".into());
    state.on_notify(Err(limit), Instant::now());
    match rx.try_recv().unwrap() {
        WatchEvent::Error(err @ WatchError::WatchLimit { .. }) => {
            assert!(err.to_string().contains("cannot watch /x"), "{err}");
        }
        other => panic!("unexpected {other:?}"),
    }
}
