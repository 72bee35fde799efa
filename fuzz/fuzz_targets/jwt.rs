//! Properties: see `authgate_server::auth::tokens::fuzzing::jwt`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| authgate_server::auth::tokens::fuzzing::jwt(data));
