//! Password hashing off the async threads, at most `max_concurrent` at a time, so a flood of
//! sign-ins queues here instead of stalling every other request. While hashes queue, their
//! working memory (19 MiB each) is handed from one to the next instead of being mapped afresh;
//! once the queue is empty it is freed, so an idle server holds none.

use crate::config::HashingConfig;
use authgate_core::argon2_memory::HashingMemory;
use authgate_core::password::{PasswordHasher, Verification};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordPool {
    hasher: Arc<PasswordHasher>,
    permits: Arc<Semaphore>,
    /// Hashes waiting for a permit.
    waiting: Arc<AtomicUsize>,
    /// Memory of finished hashes, kept only for those waiting (never more than the permits).
    spare: Arc<Mutex<Vec<HashingMemory>>>,
}

impl PasswordPool {
    pub fn new(config: HashingConfig) -> Result<Self, String> {
        let hasher = config.hasher()?;
        Ok(Self {
            hasher: Arc::new(hasher),
            permits: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            waiting: Arc::default(),
            spare: Arc::default(),
        })
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&PasswordHasher, &mut HashingMemory) -> T + Send + 'static,
    ) -> T {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let _permit = permit.expect("the hashing semaphore is never closed");
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut memory = pool
                .spare
                .lock()
                .expect("not poisoned")
                .pop()
                .unwrap_or_default();
            let out = job(&pool.hasher, &mut memory);
            if pool.waiting.load(Ordering::Acquire) > 0 {
                pool.spare.lock().expect("not poisoned").push(memory);
            } else {
                // Nobody is queued: free it, and whatever another hash left behind.
                pool.spare.lock().expect("not poisoned").clear();
            }
            out
        })
        .await
        .expect("password hashing does not panic")
    }

    pub async fn hash(&self, password: String) -> String {
        self.run(move |h, memory| h.hash_in(&password, memory))
            .await
    }

    /// With no stored hash (unknown account, or a user without a password) this still spends
    /// the time of a verification, so the answer does not reveal which case it was.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Verification {
        self.run(move |h, memory| match stored {
            Some(stored) => h.verify_in(&stored, &password, memory),
            None => {
                h.burn_in(&password, memory);
                Verification::Mismatch
            }
        })
        .await
    }
}
