//! What a UI may ask of the engine. Narrower than [`Action`]: a UI (the terminal
//! UI, the web API next) can trigger, enable or disable a resource, switch its
//! trigger mode, set the Tiltfile's arguments or quit, and nothing else, so a request can never forge a run
//! result or a container status. The engine stamps the time when it takes one.

use std::time::Instant;

use super::action::Action;
use crate::model::{ResourceName, TriggerMode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Trigger {
        resource: ResourceName,
    },
    SetEnabled {
        resource: ResourceName,
        enabled: bool,
    },
    SetTriggerMode {
        resource: ResourceName,
        mode: TriggerMode,
    },
    /// Replace the Tiltfile's arguments and evaluate it again (`stilt args`).
    SetArgs {
        args: Vec<String>,
    },
    Quit,
}

impl Intent {
    /// The action the engine reduces for this request, taken at `at`.
    pub fn into_action(self, at: Instant) -> Action {
        match self {
            Intent::Trigger { resource } => Action::Trigger { resource, at },
            Intent::SetEnabled { resource, enabled } => Action::SetEnabled { resource, enabled },
            Intent::SetTriggerMode { resource, mode } => {
                Action::SetTriggerMode { resource, mode, at }
            }
            Intent::SetArgs { args } => Action::SetArgs { args },
            Intent::Quit => Action::Quit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{EngineState, reduce};

    #[test]
    fn new_tiltfile_args_replace_the_old_and_ask_for_a_reload() {
        let mut state = EngineState::new("/p/Tiltfile".into());
        state.tiltfile.reload_requested = false;
        let args = vec!["--name".to_owned(), "x".to_owned()];
        let intent = Intent::SetArgs { args: args.clone() };
        reduce(&mut state, intent.into_action(Instant::now()));
        assert_eq!(state.tiltfile.args, Some(args));
        assert!(state.tiltfile.reload_requested);
    }
}
