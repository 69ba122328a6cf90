//! `stilt up`: run and watch until interrupted.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{STOP_GRACE, UpArgs, interrupted};
use crate::engine::{Deps, EngineOptions, run};
use crate::process::real::RealSpawner;
use crate::views::stream::StreamView;
use crate::watch::NotifyWatch;

pub async fn up(args: UpArgs) -> i32 {
    // The full-screen UI is a separate piece of work: `up` streams for now, with or
    // without `--stream` and a terminal.
    let _ = (args.stream, args.port);
    let (wtx, wrx) = mpsc::unbounded_channel();
    let deps = Deps {
        spawner: Arc::new(RealSpawner),
        watch: Some((Box::new(NotifyWatch::new(wtx)), wrx)),
        load: Arc::new(crate::config::load),
        inbox: None,
    };
    let opts = EngineOptions {
        tiltfile: args.common.file,
        args: args.common.args,
        subcommand: "up".into(),
        stop_grace: STOP_GRACE,
    };
    let mut view = StreamView::new(std::io::stdout());
    match run(opts, deps, &mut view, interrupted()).await {
        130 => 0,
        code => code,
    }
}
