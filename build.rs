//! Generates the gRPC types and service from `proto/` with a vendored protoc,
//! so building needs no system protoc; also the benchmark's empty RPC.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("sessiond_descriptor.bin"))
        .compile_protos(&["proto/sessiond/v1/sessiond.proto"], &["proto"])?;
    // The empty-RPC baseline of sessiond-bench (BENCHMARKS.md).
    tonic_prost_build::configure().compile_protos(&["proto/bench/v1/empty.proto"], &["proto"])?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
