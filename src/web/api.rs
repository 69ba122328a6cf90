//! The JSON the API serves: a [`Snapshot`] turned into Tilt's `UIResource` and
//! `Session` shapes, so scripts written against `tilt get uiresource -o json` read
//! stilt's answers unchanged. Pure functions over a snapshot; the field names are
//! Tilt's where Tilt has the concept, stilt's own extras sit under `status.stilt`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::time::rfc3339;
use crate::model::TriggerMode;
use crate::store::view::{ResourceView, RunView, RuntimeStatus, Snapshot, UpdateStatus};

/// What the session is, besides its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub tiltfile: String,
    pub started: SystemTime,
    pub pid: u32,
    /// "up" or "ci".
    pub mode: String,
}

/// `GET /api/session` and the SSE `snapshot` event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SessionJson {
    pub session: SessionStatus,
    pub ui_resources: Vec<UiResource>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    pub tiltfile_path: String,
    pub start_time: String,
    pub pid: u32,
    pub mode: String,
    pub version: String,
    /// The Tiltfile's load error (with file:line:col), when the last load failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub tiltfile_loading: bool,
    pub quitting: bool,
    /// Critical problems of the session (the inotify limit, ...).
    pub critical: Vec<String>,
    pub counts: CountsJson,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CountsJson {
    pub total: usize,
    pub ok: usize,
    pub error: usize,
    pub pending: usize,
    pub disabled: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UiResource {
    pub metadata: Metadata,
    pub status: UiResourceStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    /// Tilt stores each label as a key whose value is the label itself.
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UiResourceStatus {
    pub update_status: String,
    pub runtime_status: String,
    pub build_history: Vec<BuildRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_build: Option<BuildRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_deploy_time: Option<String>,
    pub endpoint_links: Vec<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
    pub disable_status: DisableStatus,
    /// Tilt's numbering: 0 auto, 1 manual (after an automatic first run).
    pub trigger_mode: u8,
    pub queued: bool,
    pub has_pending_changes: bool,
    pub conditions: Vec<Condition>,
    pub stilt: StiltExtras,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BuildRecord {
    pub start_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why it ran ("initial run", "2 files changed: ..."): stilt's, Tilt has none.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Waiting {
    pub waiting_reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DisableStatus {
    pub enabled_count: u32,
    pub disabled_count: u32,
    /// "Enabled" or "Disabled", as Tilt spells it.
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Condition {
    /// "UpToDate" or "Ready".
    #[serde(rename = "type")]
    pub kind: String,
    /// "True" or "False".
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StiltExtras {
    /// "local", or the deploy target that runs it.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Milliseconds the last finished run took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_duration_ms: Option<u64>,
    /// What runs: a container's short id, `pod NAMESPACE/NAME`, or `pid N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// The whole session as the API serves it.
pub fn session_json(snap: &Snapshot, info: &SessionInfo) -> SessionJson {
    let c = snap.counts();
    SessionJson {
        session: SessionStatus {
            tiltfile_path: info.tiltfile.clone(),
            start_time: rfc3339(info.started),
            pid: info.pid,
            mode: info.mode.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            error: snap.tiltfile_error.clone(),
            tiltfile_loading: snap.tiltfile_loading,
            quitting: snap.quitting,
            critical: snap.critical.clone(),
            counts: CountsJson {
                total: snap.resources.len(),
                ok: c.ok,
                error: c.error,
                pending: c.pending,
                disabled: c.disabled,
            },
        },
        ui_resources: snap.resources.iter().map(ui_resource).collect(),
    }
}

pub fn ui_resource(r: &ResourceView) -> UiResource {
    let running = r.update == UpdateStatus::InProgress;
    let build = r.last_run.as_ref().map(build_record);
    let (current, mut history) = match build {
        Some(b) if running => (Some(b), Vec::new()),
        Some(b) => (None, vec![b]),
        None => (None, Vec::new()),
    };
    history.extend(r.earlier_runs.iter().map(build_record));
    let pending = r.update == UpdateStatus::Pending;
    let manual = r.trigger_mode == TriggerMode::Manual;
    UiResource {
        metadata: Metadata {
            name: r.name.clone(),
            labels: r.labels.iter().map(|l| (l.clone(), l.clone())).collect(),
        },
        status: UiResourceStatus {
            update_status: update_status(r).to_owned(),
            runtime_status: runtime_status(r).to_owned(),
            last_deploy_time: history.first().and_then(|b| b.finish_time.clone()),
            build_history: history,
            current_build: current,
            endpoint_links: r.endpoints.iter().map(|e| link(e)).collect(),
            waiting: r.hold.clone().map(|w| Waiting { waiting_reason: w }),
            disable_status: disable_status(r.disabled),
            trigger_mode: if manual { 1 } else { 0 },
            queued: pending && !manual,
            has_pending_changes: pending,
            conditions: conditions(r),
            stilt: StiltExtras {
                kind: r.kind.clone(),
                last_reason: r.last_run.as_ref().map(|run| run.reason.clone()),
                hold_reason: r.hold.clone(),
                error: r.error.clone(),
                last_duration_ms: r
                    .last_run
                    .as_ref()
                    .and_then(|run| run.took)
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                container: r.container.clone(),
            },
        },
    }
}

fn build_record(run: &RunView) -> BuildRecord {
    BuildRecord {
        start_time: rfc3339(run.started),
        finish_time: run.took.map(|t| rfc3339(run.started + t)),
        error: run.error.clone(),
        reason: run.reason.clone(),
    }
}

/// Tilt's spelling of an update status; a disabled resource reports "none".
pub fn update_status(r: &ResourceView) -> &'static str {
    if r.disabled {
        return "none";
    }
    match r.update {
        UpdateStatus::Pending => "pending",
        UpdateStatus::InProgress => "in_progress",
        UpdateStatus::Ok => "ok",
        UpdateStatus::Error => "error",
        UpdateStatus::None => "none",
    }
}

pub fn runtime_status(r: &ResourceView) -> &'static str {
    match r.runtime {
        RuntimeStatus::Pending => "pending",
        RuntimeStatus::Ok => "ok",
        RuntimeStatus::Error => "error",
        RuntimeStatus::None => "none",
        RuntimeStatus::NotApplicable => "not_applicable",
    }
}

fn disable_status(disabled: bool) -> DisableStatus {
    DisableStatus {
        enabled_count: u32::from(!disabled),
        disabled_count: u32::from(disabled),
        state: if disabled { "Disabled" } else { "Enabled" }.to_owned(),
    }
}

/// `Ready` as `tilt wait --for=condition=Ready` reads it: updated and running.
fn conditions(r: &ResourceView) -> Vec<Condition> {
    let flag = |b: bool| if b { "True" } else { "False" }.to_owned();
    vec![
        Condition {
            kind: "UpToDate".into(),
            status: flag(!r.disabled && r.update == UpdateStatus::Ok),
        },
        Condition {
            kind: "Ready".into(),
            status: flag(!r.disabled && r.is_ok()),
        },
    ]
}

/// Snapshots carry links as "url (name)" text; the API gives them back their parts.
fn link(text: &str) -> Link {
    if let Some(open) = text.rfind(" (")
        && text.ends_with(')')
    {
        return Link {
            url: text[..open].to_owned(),
            name: Some(text[open + 2..text.len() - 1].to_owned()),
        };
    }
    Link {
        url: text.to_owned(),
        name: None,
    }
}

/// One log line as the API serves it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogLineJson {
    pub seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// "build", "runtime" or "tiltfile".
    pub source: String,
    /// "info", "warn" or "error".
    pub level: String,
    pub time: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LogsJson {
    pub lines: Vec<LogLineJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_seq: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_get_their_url_and_name_back() {
        assert_eq!(
            link("http://localhost:8000 (web)"),
            Link {
                url: "http://localhost:8000".into(),
                name: Some("web".into())
            }
        );
        assert_eq!(link("http://x/").name, None);
    }
}
