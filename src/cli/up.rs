//! `stilt up`: run and watch until interrupted.
//!
//! In a terminal (and without `--stream`) the full-screen UI shows the engine; its
//! intents reach the engine through the inbox. Otherwise output streams as lines.
//! If the terminal cannot enter full-screen mode, `up` streams instead.

use std::io::IsTerminal;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::{STOP_GRACE, UpArgs, claim_instance, interrupted};
use crate::engine::{Deps, EngineOptions, View, run};
use crate::tui::terminal::Tui;
use crate::views::publish::Publisher;
use crate::views::stream::StreamView;
use crate::watch::NotifyWatch;

pub async fn up(args: UpArgs) -> i32 {
    // Accepted for Tilt compatibility; the web dashboard is separate work.
    let _ = args.port;
    let (wtx, wrx) = mpsc::unbounded_channel();
    let (spawner, _instance) = match claim_instance(&args.common.file, args.allow_second_instance) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    let deps = Deps {
        spawner: Arc::new(spawner),
        watch: Some((Box::new(NotifyWatch::new(wtx)), wrx)),
        load: Arc::new(crate::config::load),
        inbox: None,
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
        Some(tui) => with_tui(tui, opts, deps).await,
        None => {
            let mut view = StreamView::new(std::io::stdout());
            engine(opts, deps, &mut view).await
        }
    };
    match code {
        130 => 0,
        code => code,
    }
}

async fn with_tui(tui: Tui, opts: EngineOptions, mut deps: Deps) -> i32 {
    let (itx, irx) = mpsc::unbounded_channel();
    let mut view = Publisher::new();
    let feed = view.subscriptions().subscribe();
    let ui = tokio::spawn(crate::tui::run(tui, feed, itx));
    deps.inbox = Some(irx);
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
