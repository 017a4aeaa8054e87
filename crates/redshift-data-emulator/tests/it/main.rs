//! Integration tests of the emulator through the real aws-sdk-redshiftdata
//! client: a throwaway PostgreSQL once per test binary, an emulator per test on
//! port 0.

mod emulator;
mod fixture;
