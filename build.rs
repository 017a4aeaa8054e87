//! Compiles the gateway's own protobuf messages in `proto/` with a vendored
//! protoc, so nobody has to install one.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    config.compile_protos(&["proto/redshift_flight_sql.proto"], &["proto"])?;
    Ok(())
}
