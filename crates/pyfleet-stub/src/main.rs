//! The launcher of a `pyfleet pack` app: see the library's docs.

fn main() -> std::process::ExitCode {
    pyfleet_stub::run()
}
