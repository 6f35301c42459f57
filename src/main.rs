fn main() -> std::process::ExitCode {
    bluetape_sync::cli::main()
}
