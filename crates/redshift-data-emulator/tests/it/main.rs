//! Integration tests of the emulator through the real aws-sdk-redshiftdata
//! client, one file per operation family: a throwaway PostgreSQL once per
//! test binary, an emulator per test on port 0.

mod catalog;
mod fixture;
mod protocol;
mod sdk;
mod sessions;
mod statements;
mod unload;
mod values;
