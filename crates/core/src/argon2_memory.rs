//! Argon2 computed in memory the caller owns, so that it can be kept between hashes: otherwise
//! every hash maps a fresh 19 MiB and page-faults all of it in, a large share of its cost.

use argon2::password_hash::{self, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::alloc::{handle_alloc_error, GlobalAlloc, Layout, System};
use std::ptr::NonNull;

/// Argon2's working memory, grown to the largest parameters it has served.
///
/// It comes from the system allocator whatever the program's global allocator is: these
/// blocks (19 MiB each) move between threads and must go back to the system as soon as they
/// are freed, which a caching allocator such as mimalloc does not do for memory freed by
/// another thread than the one that took it.
pub struct HashingMemory {
    blocks: NonNull<Block>,
    len: usize,
}

// SAFETY: the memory is owned exclusively by this value (like a `Vec<Block>`).
unsafe impl Send for HashingMemory {}

impl Default for HashingMemory {
    fn default() -> Self {
        Self::new()
    }
}

impl HashingMemory {
    pub fn new() -> Self {
        Self {
            blocks: NonNull::dangling(),
            len: 0,
        }
    }

    /// How many blocks it holds.
    pub fn block_count(&self) -> usize {
        self.len
    }

    /// At least `needed` blocks (zeroed when newly taken).
    fn blocks(&mut self, needed: usize) -> &mut [Block] {
        if self.len < needed {
            self.release();
            let layout = Layout::array::<Block>(needed).expect("Argon2 memory fits in memory");
            // SAFETY: `layout` has a non-zero size (Argon2 needs at least 8 blocks); all-zero
            // bytes are a valid `Block` (an array of integers).
            let raw = unsafe { System.alloc_zeroed(layout) }.cast::<Block>();
            self.blocks = NonNull::new(raw).unwrap_or_else(|| handle_alloc_error(layout));
            self.len = needed;
        }
        // SAFETY: `len` initialised blocks live at `blocks`, borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.blocks.as_ptr(), self.len) }
    }

    fn release(&mut self) {
        if self.len > 0 {
            let layout = Layout::array::<Block>(self.len).expect("allocated with this layout");
            // SAFETY: allocated by `System` with exactly this layout in `blocks`.
            unsafe { System.dealloc(self.blocks.as_ptr().cast(), layout) };
            self.blocks = NonNull::dangling();
            self.len = 0;
        }
    }
}

impl Drop for HashingMemory {
    fn drop(&mut self) {
        self.release();
    }
}

fn hash_into(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut HashingMemory,
) -> argon2::Result<()> {
    let needed = argon2.params().block_count();
    argon2.hash_password_into_with_memory(password, salt, out, memory.blocks(needed))
}

/// The PHC string `$argon2id$v=19$m=..,t=..,p=..$salt$hash`, as `argon2`'s own hasher writes it.
pub fn hash(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &SaltString,
    memory: &mut HashingMemory,
) -> password_hash::Result<String> {
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let len = argon2
        .params()
        .output_len()
        .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(len, |out| {
        Ok(hash_into(argon2, password, salt_bytes, out, memory)?)
    })?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Whether `password` matches a parsed Argon2 hash (any variant, version and parameters),
/// compared in constant time.
pub fn verify(
    stored: &PasswordHash<'_>,
    password: &[u8],
    memory: &mut HashingMemory,
) -> password_hash::Result<bool> {
    let algorithm = Algorithm::try_from(stored.algorithm)?;
    let version = stored
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(stored)?;
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return Err(password_hash::Error::PhcStringField);
    };
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let argon2 = Argon2::new(algorithm, version, params);
    let computed = Output::init_with(expected.len(), |out| {
        Ok(hash_into(&argon2, password, salt_bytes, out, memory)?)
    })?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    fn small() -> Argon2<'static> {
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 2, 1, None).unwrap(),
        )
    }

    #[test]
    fn same_hash_as_the_crate_and_each_verifies_the_other() {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let mut memory = HashingMemory::new();
        let ours = hash(&small(), b"secret-pw", &salt, &mut memory).unwrap();
        let theirs = small()
            .hash_password(b"secret-pw", &salt)
            .unwrap()
            .to_string();
        assert_eq!(ours, theirs);
        let parsed = PasswordHash::new(&theirs).unwrap();
        assert!(verify(&parsed, b"secret-pw", &mut memory).unwrap());
        assert!(!verify(&parsed, b"secret-pX", &mut memory).unwrap());
        assert!(small()
            .verify_password(b"secret-pw", &PasswordHash::new(&ours).unwrap())
            .is_ok());
    }

    #[test]
    fn other_variants_and_sizes_share_the_memory() {
        // A bigger hash after a smaller one grows the memory; argon2i still verifies.
        let mut memory = HashingMemory::new();
        hash(
            &small(),
            b"warm",
            &SaltString::encode_b64(b"0123456789abcdef").unwrap(),
            &mut memory,
        )
        .unwrap();
        let salt = SaltString::encode_b64(b"fedcba9876543210").unwrap();
        let big = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(256, 1, 2, None).unwrap(),
        );
        let phc = big
            .hash_password(b"pw-pw-pw-pw", &salt)
            .unwrap()
            .to_string();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(verify(&parsed, b"pw-pw-pw-pw", &mut memory).unwrap());
        assert!(!verify(&parsed, b"pw-pw-pw-px", &mut memory).unwrap());
        assert_eq!(memory.block_count(), 256);
    }
}
