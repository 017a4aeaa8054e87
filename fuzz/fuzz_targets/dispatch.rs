//! libFuzzer entry of [`redshift_fuzz_targets::dispatch`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| redshift_fuzz_targets::dispatch(data));
