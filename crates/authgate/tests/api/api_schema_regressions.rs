//! Server bugs found by the schema-driven API fuzz (`scripts/api-fuzz`), one test each.

use crate::both_databases;
use crate::support::*;
use reqwest::StatusCode;

/// A page so far out that `(page - 1) * pageSize` overflows used to panic in the store (a
/// 500; in a release build the offset wrapped and PostgreSQL refused it). It is a 400 now.
async fn list_pages_whose_offset_overflows_are_refused(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    for list in [
        "/api/users:list",
        "/api/sessions:list",
        "/api/auditLogs:list",
    ] {
        for query in [
            "page=9223372036854775806&pageSize=175",
            "page=9223372036854775807&pageSize=2",
            "page=46116860184273881&pageSize=200",
        ] {
            let r = s.get(&format!("{list}?{query}"), Some(&admin)).await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{list}?{query}: {}",
                r.text
            );
            assert_eq!(r.code(), "INVALID_REQUEST", "{}", r.text);
            assert!(!r.message().is_empty(), "{}", r.text);
        }
        // The last page whose offset still fits is an ordinary (empty) page.
        let r = s
            .get(
                &format!("{list}?page=46116860184273880&pageSize=200"),
                Some(&admin),
            )
            .await;
        r.assert_ok();
        assert_eq!(r.body["data"], serde_json::json!([]), "{}", r.text);
    }
    assert!(!s.output().contains("panicked"), "{}", s.output());
}

both_databases!(list_pages_whose_offset_overflows_are_refused);
