//! The list pages (users, sessions, audit, OIDC grants): a WHERE clause built from the filters
//! given, its values bound by number (`?1`, `?2`...), then one page of rows and the count of
//! them all (or every row, for a list without pages).

use crate::errors::DbError;
use authgate_store::Page;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, Row};

pub(crate) struct Filters {
    clause: String,
    values: Vec<Value>,
}

impl Filters {
    pub(crate) fn new() -> Self {
        Self {
            clause: " WHERE 1=1".into(),
            values: Vec::new(),
        }
    }

    /// The placeholder of a new value (`?3`), to name in a condition (as often as needed).
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("?{}", self.values.len())
    }

    pub(crate) fn and(&mut self, condition: &str) {
        self.clause.push_str(" AND ");
        self.clause.push_str(condition);
    }

    /// `select` (up to its WHERE clause) with these filters, in `order`: every row, for lists
    /// short enough to need no pages (a user's OIDC grants).
    pub(crate) fn all(self, select: &str, order: &str) -> (String, Vec<Value>) {
        (format!("{select}{}{order}", self.clause), self.values)
    }

    /// `select` and `count` (each up to its WHERE clause) with these filters: the page of
    /// rows in `order`, and how many rows there are in all.
    pub(crate) fn page(mut self, select: &str, count: &str, order: &str, page: &Page) -> Paged {
        let count_sql = format!("{count}{}", self.clause);
        let count_values = self.values.clone();
        let limit = self.bind(page.page_size);
        let offset = self.bind(page.offset());
        Paged {
            rows_sql: format!(
                "{select}{}{order} LIMIT {limit} OFFSET {offset}",
                self.clause
            ),
            rows_values: self.values,
            count_sql,
            count_values,
        }
    }
}

/// A page query, ready to run on a connection.
pub(crate) struct Paged {
    rows_sql: String,
    rows_values: Vec<Value>,
    count_sql: String,
    count_values: Vec<Value>,
}

impl Paged {
    pub(crate) fn run<T>(
        &self,
        conn: &Connection,
        decode: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<(Vec<T>, i64), DbError> {
        let rows = conn
            .prepare_cached(&self.rows_sql)?
            .query_map(params_from_iter(&self.rows_values), decode)?
            .collect::<rusqlite::Result<Vec<T>>>()?;
        let total = conn
            .prepare_cached(&self.count_sql)?
            .query_row(params_from_iter(&self.count_values), |r| r.get(0))?;
        Ok((rows, total))
    }
}
