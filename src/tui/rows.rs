//! The order of the resource list: resources in declaration order, or grouped under
//! their labels. The app needs it to know which resource the cursor is on and the
//! list widget to draw it; it lives apart from the widget so the app, which every
//! widget reads, imports no widget.

use crate::store::view::Snapshot;

/// A line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A label heading its group.
    Group(String),
    /// An index into `Snapshot::resources`.
    Resource(usize),
}

/// Resources in declaration order; grouped by label (alphabetically, unlabeled last)
/// when any resource has one. A resource with two labels shows in both groups.
pub fn rows(snap: &Snapshot) -> Vec<Row> {
    let mut labels: Vec<&str> = snap
        .resources
        .iter()
        .flat_map(|r| r.labels.iter().map(String::as_str))
        .collect();
    if labels.is_empty() {
        return (0..snap.resources.len()).map(Row::Resource).collect();
    }
    labels.sort_unstable();
    labels.dedup();
    let mut out = Vec::new();
    for label in labels {
        out.push(Row::Group(label.to_owned()));
        out.extend(
            snap.resources
                .iter()
                .enumerate()
                .filter(|(_, r)| r.labels.iter().any(|l| l == label))
                .map(|(i, _)| Row::Resource(i)),
        );
    }
    let unlabeled: Vec<Row> = snap
        .resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.labels.is_empty())
        .map(|(i, _)| Row::Resource(i))
        .collect();
    if !unlabeled.is_empty() {
        out.push(Row::Group("unlabeled".into()));
        out.extend(unlabeled);
    }
    out
}

/// The resource behind each selectable row, in list order.
pub fn resource_rows(snap: &Snapshot) -> Vec<usize> {
    rows(snap)
        .into_iter()
        .filter_map(|r| match r {
            Row::Resource(i) => Some(i),
            Row::Group(_) => None,
        })
        .collect()
}
