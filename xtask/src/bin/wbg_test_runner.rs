//! The wasm-bindgen test runner, pinned by Cargo.lock to the same version as the module's wasm-bindgen.
fn main() -> anyhow::Result<()> {
    wasm_bindgen_cli::wasm_bindgen_test_runner::run_cli_with_args(std::env::args_os())
}
