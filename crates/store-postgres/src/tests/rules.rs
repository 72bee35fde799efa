//! The rules decided with rows held: they hold when nodes change things at once.

use super::{authenticator, identity, new_user, store};
use crate::PgStore;
use authgate_core::audit::event;
use authgate_core::model::{AuthenticatorPatch, UserPatch};
use authgate_store::prelude::*;
use authgate_store::{LinkOutcome, StoreError};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_enabled_admin_stays_while_demotions_race() {
    let (node_a, url) = store().await;
    let nodes = [
        Arc::new(node_a),
        Arc::new(PgStore::connect(&url).await.unwrap()),
    ];
    let mut admins = Vec::new();
    for name in ["a1", "a2", "a3", "a4"] {
        let mut admin = new_user(name);
        admin.is_admin = true;
        admins.push(nodes[0].create_user(&admin, 1).await.unwrap().id);
    }
    let tasks: Vec<_> = admins
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let node = nodes[i % 2].clone();
            tokio::spawn(async move {
                let demote = UserPatch {
                    is_admin: Some(false),
                    ..Default::default()
                };
                node.update_user(id, &demote, 2).await
            })
        })
        .collect();
    let mut demoted = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(Some(_)) => demoted += 1,
            Err(StoreError::LastEnabledAdmin) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((demoted, refused), (3, 1));
    assert_eq!(nodes[1].count_enabled_admins().await.unwrap(), 1);

    // Nor can the last one be disabled or deleted.
    let last = nodes[0]
        .list_users(&authgate_store::UserQuery {
            is_admin: Some(true),
            page: authgate_store::Page::new(1, 10),
            ..Default::default()
        })
        .await
        .unwrap()
        .0[0]
        .id;
    let disable = UserPatch {
        enabled: Some(false),
        ..Default::default()
    };
    assert!(matches!(
        nodes[0].update_user(last, &disable, 3).await,
        Err(StoreError::LastEnabledAdmin)
    ));
    assert!(matches!(
        nodes[1].delete_user(last).await,
        Err(StoreError::LastEnabledAdmin)
    ));
}

#[tokio::test]
async fn an_authenticator_stays_enabled_and_every_admin_keeps_a_way_in() {
    let (store, _) = store().await;
    let dingtalk = store
        .get_authenticator_by_name("dingtalk")
        .await
        .unwrap()
        .unwrap();
    let disable = AuthenticatorPatch {
        enabled: Some(false),
        ..Default::default()
    };
    assert!(matches!(
        store.update_authenticator(dingtalk.id, &disable, 2).await,
        Err(StoreError::LastEnabledAuthenticator)
    ));
    assert!(matches!(
        store.delete_authenticator(dingtalk.id).await,
        Err(StoreError::LastEnabledAuthenticator)
    ));

    // An admin without a password signs in only through DingTalk.
    let password = store
        .create_authenticator(&authenticator("basic", "password"), 2)
        .await
        .unwrap();
    let mut admin = new_user("root");
    admin.is_admin = true;
    let admin = store.create_user(&admin, 1).await.unwrap();
    let link = store
        .link_identity(
            admin.id,
            &identity("root-dt"),
            &super::entry(event::IDENTITY_LINK),
            3,
        )
        .await
        .unwrap();
    assert_eq!(link, LinkOutcome::Linked);
    assert!(matches!(
        store.update_authenticator(dingtalk.id, &disable, 4).await,
        Err(StoreError::AdminsNeedPassword)
    ));
    assert!(matches!(
        store.delete_authenticator(dingtalk.id).await,
        Err(StoreError::AdminsNeedPassword)
    ));
    let identity_id = store.list_identities(admin.id).await.unwrap()[0].id;
    assert!(matches!(
        store.delete_identity(admin.id, identity_id).await,
        Err(StoreError::AdminsNeedPassword)
    ));

    // With a password, the admin has another way in.
    store
        .set_password_hash(admin.id, "hash", Some(5), 5)
        .await
        .unwrap();
    assert!(store.delete_identity(admin.id, identity_id).await.unwrap());
    let disabled = store
        .update_authenticator(dingtalk.id, &disable, 6)
        .await
        .unwrap()
        .unwrap();
    assert!(!disabled.enabled);
    // The password authenticator is the last enabled one now.
    assert!(matches!(
        store.update_authenticator(password.id, &disable, 7).await,
        Err(StoreError::LastEnabledAuthenticator)
    ));
}
