//! libFuzzer entry of [`redshift_fuzz_targets::sqltext`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| redshift_fuzz_targets::sqltext(data));
