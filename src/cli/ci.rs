//! `stilt ci`: the same engine, headless, with an exit code. It serves the HTTP API
//! like `up` (so `stilt get` works against a CI run) and can write a JUnit report
//! and the final state for CI systems ([`super::junit`]).

use std::sync::Arc;

use tokio::sync::mpsc;

use super::junit::Reports;
use super::{CiArgs, STOP_GRACE, claim_instance, interrupted};
use crate::engine::{Deps, EngineOptions, run};
use crate::views::ci::CiView;
use crate::views::publish::Publisher;
use crate::web::view::WithPublisher;

pub async fn ci(args: CiArgs) -> i32 {
    let (spawner, instance) = match claim_instance(&args.common.file, args.allow_second_instance) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    let (itx, irx) = mpsc::unbounded_channel();
    let publisher = Publisher::new();
    let file = &args.common.file;
    let server = match super::up::serve_api(
        &args.web,
        file,
        instance.is_some(),
        "ci",
        &publisher,
        itx,
    )
    .await
    {
        Ok(server) => server,
        Err(code) => return code,
    };
    let deps = Deps {
        spawner: Arc::new(spawner),
        watch: None,
        load: Arc::new(crate::config::load),
        inbox: Some(irx),
        backends: super::backends::real(args.common.k8s(), &args.common.file),
    };
    let info = crate::web::api::SessionInfo {
        tiltfile: std::path::absolute(file)
            .unwrap_or_else(|_| file.clone())
            .display()
            .to_string(),
        started: std::time::SystemTime::now(),
        pid: std::process::id(),
        mode: "ci".into(),
    };
    let opts = EngineOptions {
        load_warn_after: args.common.load_warn_after(),
        k8s: args.common.k8s(),
        tiltfile: args.common.file,
        args: args.common.args,
        subcommand: "ci".into(),
        stop_grace: STOP_GRACE,
    };
    // `--timeout 0` means no timeout, as in Tilt.
    let timeout = args.timeout.map(|t| (!t.is_zero()).then_some(t));
    let mut ci_view = CiView::new(std::io::stdout(), crate::clock::now(), timeout);
    let mut reports = Reports {
        inner: &mut ci_view,
        junit: args.output_junit,
        snapshot: args.output_snapshot_on_exit,
        info,
    };
    let mut view = WithPublisher {
        inner: &mut reports,
        publisher,
    };
    let code = run(opts, deps, &mut view, interrupted()).await;
    drop(server);
    match code {
        130 => 1,
        code => code,
    }
}
