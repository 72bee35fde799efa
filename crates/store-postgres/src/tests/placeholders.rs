//! Placeholders bind by number, whatever order the statement names them in.

use super::{new_user, store};
use authgate_store::prelude::*;

#[tokio::test]
async fn a_statement_naming_its_parameters_out_of_order_binds_each_to_its_number() {
    let (store, _) = store().await;
    let alice = store.create_user(&new_user("alice"), 1).await.unwrap();
    let bob = store.create_user(&new_user("bob"), 1).await.unwrap();

    // set_password_hash's UPDATE is `SET password_hash = $2, password_changed_at =
    // COALESCE($3, ..), updated_at = $4 WHERE id = $1`: the id is named last.
    assert!(store
        .set_password_hash(bob.id, "hash-b", Some(5), 7)
        .await
        .unwrap());

    let bob = store.get_user(bob.id).await.unwrap().unwrap();
    assert_eq!(bob.password_hash.as_deref(), Some("hash-b"));
    assert_eq!(bob.password_changed_at, Some(5));
    assert_eq!(bob.updated_at, 7);
    let alice_now = store.get_user(alice.id).await.unwrap().unwrap();
    assert_eq!(alice_now, alice, "the other user is untouched");

    // A silent rehash keeps the recorded change.
    store
        .set_password_hash(bob.id, "hash-c", None, 9)
        .await
        .unwrap();
    let bob = store.get_user(bob.id).await.unwrap().unwrap();
    assert_eq!(bob.password_hash.as_deref(), Some("hash-c"));
    assert_eq!(bob.password_changed_at, Some(5));
    assert_eq!(bob.updated_at, 9);
}
