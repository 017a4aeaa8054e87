//! Integration tests: the real stack in-process on port 0 (PostgreSQL → Data API
//! emulator over HTTP → aws-sdk-redshiftdata), driven by real clients.

mod audit;
mod bad_input;
mod bi;
mod cancel;
mod common;
mod config_file;
mod drain;
mod fairness;
mod flight;
mod identity;
mod keepalive;
mod limits;
mod oidc;
mod policy;
mod process;
mod replicas;
mod result_format;
mod soak;
mod tls;
mod tokens;
mod unload;
