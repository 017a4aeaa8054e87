//! redshift-flight-sql: an Apache Arrow Flight SQL server for Amazon Redshift
//! over the Redshift Data API, and a local Data API emulator on PostgreSQL.

pub mod convert;
pub mod dataapi;
pub mod emulator;
pub mod telemetry;
