use clap::Parser;
use sharegen::cli::Cli;

fn main() {
    let cli = Cli::parse();
    let code = match sharegen::cmd::run(cli) {
        Ok(()) => sharegen::error::exit::OK,
        Err(e) => {
            let code = e
                .downcast_ref::<sharegen::Error>()
                .map_or(sharegen::error::exit::ERROR, sharegen::Error::exit_code);
            eprintln!("error: {e:#}");
            code
        }
    };
    std::process::exit(code);
}
