//! The `resource_deps` graph: unknown names and cycles are load errors.

use std::collections::HashMap;

use super::resource::{Resource, ResourceName};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("resource {resource:?} has resource_deps on {missing:?}, which is not a resource")]
    UnknownDep { resource: String, missing: String },
    #[error("resource_deps form a cycle: {}", cycle.join(" -> "))]
    Cycle { cycle: Vec<String> },
}

/// Resource names in an order where every resource comes after its deps.
/// Ties keep declaration order, so the result is stable across reloads.
pub fn topo_order(resources: &[Resource]) -> Result<Vec<ResourceName>, GraphError> {
    let index: HashMap<&str, usize> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.as_str(), i))
        .collect();
    for r in resources {
        for d in &r.resource_deps {
            if !index.contains_key(d.as_str()) {
                return Err(GraphError::UnknownDep {
                    resource: r.name.0.clone(),
                    missing: d.0.clone(),
                });
            }
        }
    }
    // 0 = unvisited, 1 = on the stack, 2 = done
    let mut mark = vec![0u8; resources.len()];
    let mut order = Vec::with_capacity(resources.len());
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..resources.len() {
        visit(start, resources, &index, &mut mark, &mut stack, &mut order)?;
    }
    Ok(order)
}

fn visit(
    i: usize,
    resources: &[Resource],
    index: &HashMap<&str, usize>,
    mark: &mut [u8],
    stack: &mut Vec<usize>,
    order: &mut Vec<ResourceName>,
) -> Result<(), GraphError> {
    match mark[i] {
        2 => return Ok(()),
        1 => {
            let from = stack.iter().position(|&s| s == i).unwrap_or(0);
            let mut cycle: Vec<String> = stack[from..]
                .iter()
                .map(|&s| resources[s].name.0.clone())
                .collect();
            cycle.push(resources[i].name.0.clone());
            return Err(GraphError::Cycle { cycle });
        }
        _ => {}
    }
    mark[i] = 1;
    stack.push(i);
    for d in &resources[i].resource_deps {
        let j = index[d.as_str()];
        visit(j, resources, index, mark, stack, order)?;
    }
    stack.pop();
    mark[i] = 2;
    order.push(resources[i].name.clone());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LocalSpec, ResourceKind, TriggerMode};

    fn res(name: &str, deps: &[&str]) -> Resource {
        Resource {
            name: name.into(),
            labels: vec![],
            links: vec![],
            resource_deps: deps.iter().map(|d| (*d).into()).collect(),
            trigger_mode: TriggerMode::Auto,
            auto_init: true,
            kind: ResourceKind::Local(LocalSpec::default()),
        }
    }

    fn names(v: Vec<ResourceName>) -> Vec<String> {
        v.into_iter().map(|n| n.0).collect()
    }

    #[test]
    fn deps_come_first_and_ties_keep_declaration_order() {
        let rs = [res("web", &["db"]), res("db", &[]), res("lint", &[])];
        assert_eq!(names(topo_order(&rs).unwrap()), ["db", "web", "lint"]);
    }

    #[test]
    fn a_cycle_is_named_in_full() {
        let rs = [res("a", &["b"]), res("b", &["c"]), res("c", &["a"])];
        assert_eq!(
            topo_order(&rs).unwrap_err().to_string(),
            "resource_deps form a cycle: a -> b -> c -> a"
        );
    }

    #[test]
    fn an_unknown_dep_names_both_ends() {
        let rs = [res("a", &["nope"])];
        assert_eq!(
            topo_order(&rs).unwrap_err(),
            GraphError::UnknownDep {
                resource: "a".into(),
                missing: "nope".into()
            }
        );
    }
}
