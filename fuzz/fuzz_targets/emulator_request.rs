//! libFuzzer entry of [`redshift_fuzz_targets::emulator_request`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| redshift_fuzz_targets::emulator_request(data));
