//! TEMPORARY stub: replaced by the watch branch at merge.
use std::path::{Path, PathBuf};
use std::time::Duration;
#[derive(Debug, Clone, PartialEq)]
pub struct WatchConfig {
    pub roots: Vec<PathBuf>,
    pub base_dir: PathBuf,
    pub use_gitignore: bool,
    pub extra_ignores: Vec<String>,
    pub quiet: Duration,
    pub max_wait: Duration,
}
#[derive(Debug)]
pub enum WatchEvent { Changed(Vec<PathBuf>), Error(WatchError) }
#[derive(Debug, thiserror::Error)]
pub enum WatchError { #[error("x")] X }
pub trait FileWatch: Send { fn configure(&mut self, cfg: WatchConfig) -> Result<(), WatchError>; }
pub struct PathFilter;
impl PathFilter { pub fn new(_b: &Path, _p: &[String]) -> Result<Self, WatchError> { Ok(PathFilter) } pub fn matches(&self, _p: &Path) -> bool { false } }
pub struct NotifyWatch;
impl NotifyWatch { pub fn new(_out: tokio::sync::mpsc::UnboundedSender<WatchEvent>) -> Self { NotifyWatch } }
impl FileWatch for NotifyWatch { fn configure(&mut self, _cfg: WatchConfig) -> Result<(), WatchError> { Ok(()) } }
