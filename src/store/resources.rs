//! The resources of the engine state, in declaration order, found by name in O(1).
//!
//! Every turn of the engine walks all resources several times (scheduling, the ci
//! verdict, views); a walk in order must not look each one up by name.

use std::collections::HashMap;

use super::state::ResourceState;
use crate::model::ResourceName;

#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// In declaration order.
    items: Vec<ResourceState>,
    index: HashMap<ResourceName, usize>,
}

impl Resources {
    /// `items` in declaration order (a later duplicate name replaces nothing: the
    /// loader rejects duplicates before this).
    pub fn from_ordered(items: Vec<ResourceState>) -> Self {
        let index = items
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name().clone(), i))
            .collect();
        Resources { items, index }
    }

    /// Takes every resource out, by name (for a reload to rebuild the list).
    pub fn into_map(self) -> HashMap<ResourceName, ResourceState> {
        self.items
            .into_iter()
            .map(|r| (r.name().clone(), r))
            .collect()
    }

    pub fn get(&self, name: &ResourceName) -> Option<&ResourceState> {
        self.index.get(name).map(|&i| &self.items[i])
    }

    pub fn get_mut(&mut self, name: &ResourceName) -> Option<&mut ResourceState> {
        self.index.get(name).map(|&i| &mut self.items[i])
    }

    pub fn contains_key(&self, name: &ResourceName) -> bool {
        self.index.contains_key(name)
    }

    /// In declaration order.
    pub fn iter(&self) -> std::slice::Iter<'_, ResourceState> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl std::ops::Index<&ResourceName> for Resources {
    type Output = ResourceState;

    /// Panics when there is no such resource, like a map's index (tests use it).
    fn index(&self, name: &ResourceName) -> &ResourceState {
        &self.items[self.index[name]]
    }
}
