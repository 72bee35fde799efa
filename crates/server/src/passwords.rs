//! Password hashing off the async threads, at most `max_concurrent` at a time, so a flood of
//! sign-ins queues here instead of stalling every other request.

use crate::config::HashingConfig;
use authgate_core::password::{PasswordHasher, Verification};
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordPool {
    hasher: Arc<PasswordHasher>,
    permits: Arc<Semaphore>,
}

impl PasswordPool {
    pub fn new(config: HashingConfig) -> Result<Self, String> {
        let hasher = PasswordHasher::new(config.memory_kib, config.iterations, config.parallelism)?;
        Ok(Self {
            hasher: Arc::new(hasher),
            permits: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
        })
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&PasswordHasher) -> T + Send + 'static,
    ) -> T {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the hashing semaphore is never closed");
        let hasher = self.hasher.clone();
        tokio::task::spawn_blocking(move || job(&hasher))
            .await
            .expect("password hashing does not panic")
    }

    pub async fn hash(&self, password: String) -> String {
        self.run(move |h| h.hash(&password)).await
    }

    /// With no stored hash (unknown account, or a user without a password) this still spends
    /// the time of a verification, so the answer does not reveal which case it was.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Verification {
        self.run(move |h| match stored {
            Some(stored) => h.verify(&stored, &password),
            None => {
                h.burn(&password);
                Verification::Mismatch
            }
        })
        .await
    }
}
