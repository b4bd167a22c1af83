//! Generates the client of `sessiond.v1` from the repository's proto/ (the
//! contract), with a vendored protoc, so the client and the server never
//! drift.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .build_server(false)
        .compile_protos(
            &["../../proto/sessiond/v1/sessiond.proto"],
            &["../../proto"],
        )?;
    println!("cargo:rerun-if-changed=../../proto");
    Ok(())
}
