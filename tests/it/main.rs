//! Integration tests: the real stack in-process on port 0 (PostgreSQL → Data API
//! emulator over HTTP → aws-sdk-redshiftdata), driven by real clients.

mod bi;
mod common;
mod flight;
