//! Connections the server ends are not reused, and the store recovers once the database
//! takes connections again.

use super::{client, new_user, store};
use authgate_store::prelude::*;
use authgate_store::StoreError;

#[tokio::test]
async fn connections_ended_by_the_server_are_replaced() {
    let (store, url) = store().await;
    let user = store.create_user(&new_user("kept"), 1).await.unwrap();
    let name = url.rsplit('/').next().unwrap().to_string();
    let admin = client(&super::admin_url()).await;
    let terminate = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );

    // Every connection of the pool is ended: at most one statement notices, and says the
    // database is unavailable; the next has a new connection.
    admin.batch_execute(&terminate).await.unwrap();
    let mut unavailable = 0;
    loop {
        match store.get_user(user.id).await {
            Ok(found) => {
                assert_eq!(found, Some(user.clone()));
                break;
            }
            Err(StoreError::Unavailable(_)) if unavailable < 1 => unavailable += 1,
            Err(e) => panic!("{e:?}"),
        }
    }

    // No new connection is allowed: unavailable, until it is again.
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false; {terminate}"
        ))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(matches!(
        store.get_user(user.id).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.ping().await,
        Err(StoreError::Unavailable(_))
    ));
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"
        ))
        .await
        .unwrap();
    assert_eq!(store.get_user(user.id).await.unwrap(), Some(user));
}
