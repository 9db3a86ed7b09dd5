//! The `vercel-oidc` command: [`vercel_oidc::cli`], which the library holds behind its `cli`
//! feature, with every cloud of [`vercel_oidc::clouds`].

/// musl's allocator maps and unmaps memory for most allocations: about a hundred system calls in
/// a cache hit, whose whole point is to cost little more than reading a file. mimalloc keeps its
/// memory. Only for musl (the static Linux builds); elsewhere the system allocator is good.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    vercel_oidc::cli::main(vercel_oidc::clouds::ALL)
}
