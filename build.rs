//! Generates the gRPC types and service from `proto/` with a vendored protoc,
//! so building needs no system protoc; also the benchmark's own service.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .build_server(false)
        .file_descriptor_set_path(out_dir.join("sessiond_descriptor.bin"))
        .compile_protos(&["proto/sessiond/v1/sessiond.proto"], &["proto"])?;
    // The service's server side, generated apart so that Get answers with
    // `grpc::GetReply`, which writes `GetResponse`'s bytes straight from the
    // stored session, and takes a `grpc::GetQuery`, which decodes
    // `GetRequest` with a short path for its id, and Pipeline answers with
    // `grpc::PipelineReply`, whose Gets are `GetReply`s; every other message, and
    // the client, is `grpc::pb`'s.
    let server = out_dir.join("server");
    std::fs::create_dir_all(&server)?;
    tonic_prost_build::configure()
        .out_dir(server)
        .build_client(false)
        .extern_path(".sessiond.v1", "crate::grpc::pb")
        .extern_path(".sessiond.v1.GetResponse", "crate::grpc::GetReply")
        .extern_path(".sessiond.v1.GetRequest", "crate::grpc::GetQuery")
        .extern_path(
            ".sessiond.v1.PipelineResponse",
            "crate::grpc::PipelineReply",
        )
        .compile_protos(&["proto/sessiond/v1/sessiond.proto"], &["proto"])?;
    // sessiond-bench's own service (BENCHMARKS.md): the empty-RPC
    // baseline, in a directory of its own.
    let bench = out_dir.join("bench");
    std::fs::create_dir_all(&bench)?;
    tonic_prost_build::configure()
        .out_dir(bench)
        .extern_path(".sessiond.v1", "::sessiond::grpc::pb")
        .compile_protos(&["proto/bench/v1/empty.proto"], &["proto"])?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
