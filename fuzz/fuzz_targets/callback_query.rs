//! Properties: see `authgate_dingtalk::fuzzing::callback_query`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| authgate_dingtalk::fuzzing::callback_query(data));
