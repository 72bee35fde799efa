//! SQL text built together with its parameters: each value appended becomes the next `$n`, so
//! a statement whose shape depends on the request (filters, a SET list, a sign-in's rows)
//! never numbers its placeholders by hand.

use tokio_postgres::types::ToSql;

pub(crate) struct Sql<'a> {
    text: String,
    params: Vec<Box<dyn ToSql + Sync + Send + 'a>>,
}

impl<'a> Sql<'a> {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            params: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends `value` as the next parameter (`$n`).
    pub(crate) fn bind(&mut self, value: impl ToSql + Sync + Send + 'a) -> &mut Self {
        let placeholder = self.param(value);
        self.text.push_str(&placeholder);
        self
    }

    /// A new parameter's placeholder, for text that names the value more than once.
    pub(crate) fn param(&mut self, value: impl ToSql + Sync + Send + 'a) -> String {
        self.params.push(Box::new(value));
        format!("${}", self.params.len())
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| &**p as &(dyn ToSql + Sync))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Sql;

    #[test]
    fn placeholders_follow_the_values() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.bind(1_i64).push(" AND b = ").bind("x");
        let again = sql.param(true);
        sql.push(&format!(" AND c = {again} AND d = {again}"));
        assert_eq!(
            sql.text(),
            "SELECT 1 WHERE a = $1 AND b = $2 AND c = $3 AND d = $3"
        );
        assert_eq!(sql.params().len(), 3);
    }
}
