//! `stilt up`: run and watch until interrupted.
//!
//! In a terminal (and without `--stream`) the full-screen UI shows the engine; its
//! intents reach the engine through the inbox. Otherwise output streams as lines.
//! If the terminal cannot enter full-screen mode, `up` streams instead. Either way
//! the HTTP API (`src/web/`) reads the same published snapshots and sends its
//! intents to the same inbox.

use std::io::IsTerminal;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::{STOP_GRACE, ServeArgs, UpArgs, claim_instance, interrupted};
use crate::engine::{Deps, EngineOptions, View, run};
use crate::store::Intent;
use crate::tui::terminal::Tui;
use crate::views::publish::Publisher;
use crate::views::stream::StreamView;
use crate::watch::NotifyWatch;
use crate::web::view::WithPublisher;

pub async fn up(args: UpArgs) -> i32 {
    let (wtx, wrx) = mpsc::unbounded_channel();
    let (spawner, instance) = match claim_instance(&args.common.file, args.allow_second_instance) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    let (itx, irx) = mpsc::unbounded_channel();
    let publisher = Publisher::new();
    let server = match serve_api(
        &args.web,
        &args.common.file,
        instance.is_some(),
        "up",
        &publisher,
        itx.clone(),
    )
    .await
    {
        Ok(server) => server,
        Err(code) => return code,
    };
    let deps = Deps {
        spawner: Arc::new(spawner),
        watch: Some((Box::new(NotifyWatch::new(wtx)), wrx)),
        load: Arc::new(crate::config::load),
        inbox: Some(irx),
        backends: super::backends::real(args.common.k8s(), &args.common.file),
    };
    let opts = EngineOptions {
        load_warn_after: args.common.load_warn_after(),
        k8s: args.common.k8s(),
        tiltfile: args.common.file,
        args: args.common.args,
        subcommand: "up".into(),
        stop_grace: STOP_GRACE,
    };
    let tui = if !args.stream && std::io::stdout().is_terminal() {
        Tui::enter().ok()
    } else {
        None
    };
    let code = match tui {
        Some(tui) => with_tui(tui, opts, deps, publisher, itx).await,
        None => {
            let mut stream = StreamView::new(std::io::stdout());
            let mut view = WithPublisher {
                inner: &mut stream,
                publisher,
            };
            engine(opts, deps, &mut view).await
        }
    };
    drop(server);
    match code {
        130 => 0,
        code => code,
    }
}

/// Starts the HTTP API unless it is off (`--port 0`), printing where it serves and
/// any warning; `Err` carries the exit code after printing why it cannot start.
pub async fn serve_api(
    args: &ServeArgs,
    tiltfile: &std::path::Path,
    record: bool,
    mode: &str,
    publisher: &Publisher,
    intents: mpsc::UnboundedSender<Intent>,
) -> Result<Option<crate::web::Server>, i32> {
    let opts = match args.resolve(|k| std::env::var(k).ok()) {
        Ok(Some(opts)) => opts,
        Ok(None) => return Ok(None),
        Err(e) => {
            eprintln!("Error: {e}");
            return Err(2);
        }
    };
    let opts = crate::web::WebOptions {
        record_dir: record.then(|| crate::instance::state_dir(tiltfile)),
        ..opts
    };
    let abs = std::path::absolute(tiltfile).unwrap_or_else(|_| tiltfile.to_path_buf());
    let info = crate::web::api::SessionInfo {
        tiltfile: abs.display().to_string(),
        started: std::time::SystemTime::now(),
        pid: std::process::id(),
        mode: mode.to_owned(),
    };
    match crate::web::start(opts, &publisher.subscriptions(), intents, info).await {
        Ok(server) => {
            for note in &server.notes {
                eprintln!("stilt: {note}");
            }
            eprintln!("stilt: API and dashboard on {}", server.url());
            Ok(Some(server))
        }
        Err(e) => {
            eprintln!("Error: {e} (pick another with --port, or --port 0 for none)");
            Err(1)
        }
    }
}

async fn with_tui(
    tui: Tui,
    opts: EngineOptions,
    deps: Deps,
    mut view: Publisher,
    itx: mpsc::UnboundedSender<Intent>,
) -> i32 {
    let feed = view.subscriptions().subscribe();
    let ui = tokio::spawn(crate::tui::run(tui, feed, itx));
    let code = engine(opts, deps, &mut view).await;
    // Closing the feed ends the UI task, which restores the terminal.
    drop(view);
    match ui.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("Error: the terminal UI failed: {e}"),
        Err(e) => eprintln!("Error: the terminal UI crashed: {e}"),
    }
    code
}

async fn engine(opts: EngineOptions, deps: Deps, view: &mut dyn View) -> i32 {
    run(opts, deps, view, interrupted()).await
}
