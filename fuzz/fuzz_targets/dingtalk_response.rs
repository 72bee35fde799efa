//! Properties: see `authgate_dingtalk::fuzzing::dingtalk_response`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| authgate_dingtalk::fuzzing::dingtalk_response(data));
