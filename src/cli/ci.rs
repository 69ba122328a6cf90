//! `stilt ci`: the same engine, headless, with an exit code.

use std::sync::Arc;

use super::{CiArgs, STOP_GRACE, claim_instance, interrupted};
use crate::engine::{Deps, EngineOptions, run};
use crate::views::ci::CiView;

pub async fn ci(args: CiArgs) -> i32 {
    let (spawner, _instance) = match claim_instance(&args.common.file, args.allow_second_instance) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    let deps = Deps {
        spawner: Arc::new(spawner),
        watch: None,
        load: Arc::new(crate::config::load),
        inbox: None,
        backends: super::backends::real(args.common.k8s(), &args.common.file),
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
    let mut view = CiView::new(std::io::stdout(), crate::clock::now(), timeout);
    match run(opts, deps, &mut view, interrupted()).await {
        130 => 1,
        code => code,
    }
}
