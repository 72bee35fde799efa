//! Properties: see `authgate_core::phone::fuzzing::phone`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| authgate_core::phone::fuzzing::phone(data));
