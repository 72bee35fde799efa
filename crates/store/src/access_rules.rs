//! Access rules for forward auth: who may reach which protected application. The store keeps
//! them in order and leaves their meaning to the server (`rule` is the definition the server
//! validated); every node reads the list through the short cache, so a change is seen
//! everywhere within its TTL.

use crate::error::StoreResult;
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub struct AccessRuleRecord {
    pub id: i64,
    /// The order rules are tried in (ascending; the first match decides).
    pub position: i64,
    pub rule: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[async_trait]
pub trait AccessRuleStore: Send + Sync {
    /// Every rule, in the order they are tried. Shared, not copied: the same list is handed
    /// out until it changes (or its cache entry ages), so callers may keep what they derive
    /// from it per list.
    async fn list_access_rules(&self) -> StoreResult<Arc<Vec<AccessRuleRecord>>>;

    /// Adds `rule` after the others.
    async fn create_access_rule(
        &self,
        rule: &Map<String, Value>,
        now: i64,
    ) -> StoreResult<AccessRuleRecord>;

    /// Replaces rule `id`'s definition (`None`: no such rule).
    async fn update_access_rule(
        &self,
        id: i64,
        rule: &Map<String, Value>,
        now: i64,
    ) -> StoreResult<Option<AccessRuleRecord>>;

    async fn delete_access_rule(&self, id: i64) -> StoreResult<bool>;

    /// Moves rule `id` so that it is tried `index`th (0 first; past the end: last). False when
    /// there is no such rule.
    async fn move_access_rule(&self, id: i64, index: usize, now: i64) -> StoreResult<bool>;
}

/// The order after moving `id` to `index` in `ids` (in their current order); `None` when `id`
/// is not among them. Both backends renumber the rules 1, 2, ... in this order.
pub fn order_after_move(ids: &[i64], id: i64, index: usize) -> Option<Vec<i64>> {
    let from = ids.iter().position(|&i| i == id)?;
    let mut order = ids.to_vec();
    order.remove(from);
    order.insert(index.min(order.len()), id);
    Some(order)
}

#[cfg(test)]
mod tests {
    use super::order_after_move;

    #[test]
    fn a_moved_rule_lands_where_asked_and_the_rest_keep_their_order() {
        assert_eq!(order_after_move(&[1, 2, 3], 3, 0), Some(vec![3, 1, 2]));
        assert_eq!(order_after_move(&[1, 2, 3], 1, 1), Some(vec![2, 1, 3]));
        assert_eq!(order_after_move(&[1, 2, 3], 1, 99), Some(vec![2, 3, 1]));
        assert_eq!(order_after_move(&[1, 2, 3], 4, 0), None);
    }
}
