//! The `authgate` binary: command line, configuration, start-up.

mod cli;
mod commands;
mod database;
mod logging;
mod private_files;
mod secret_key;
mod settings;

use clap::Parser;

/// Requests allocate many small short-lived objects: with glibc, malloc and free were ~15% of
/// authgate's CPU; with mimalloc auth:check costs 0.018 instead of 0.026 ms of CPU
/// (`authgate-bench`). Built without transparent huge pages, which add ~10 MiB when idle.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Argon2's 19 MiB working memory comes from the system allocator (glibc; see
/// `authgate_core::argon2_memory`), as do SQLite's allocations. glibc's default raises its
/// mmap threshold after the first such block is freed, after which every blocking thread keeps
/// a 19 MiB arena for good (hundreds of MiB resident after a burst of sign-ins). A fixed
/// threshold hands the blocks back to the system as soon as a hash is done.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_system() {
    // SAFETY: mallopt only changes allocator tuning; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_system() {}

fn main() -> std::process::ExitCode {
    return_large_blocks_to_the_system();
    private_files::keep_new_files_private();
    let cli = cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the Tokio runtime starts");
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authgate: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
