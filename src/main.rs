use clap::{CommandFactory, FromArgMatches};
use sharegen::cli::Cli;

/// `--color` (or NO_COLOR) before parsing, so help and usage errors follow it.
fn color_for_clap() -> clap::ColorChoice {
    let args: Vec<String> = std::env::args().collect();
    let pos = args.iter().position(|a| a == "--color");
    let value = args
        .iter()
        .find_map(|a| a.strip_prefix("--color="))
        .or_else(|| pos.and_then(|i| args.get(i + 1)).map(String::as_str));
    match value {
        Some("always") => clap::ColorChoice::Always,
        Some("never") => clap::ColorChoice::Never,
        _ if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => {
            clap::ColorChoice::Never
        }
        _ => clap::ColorChoice::Auto,
    }
}

fn main() {
    sharegen::memory::tune_allocator();
    let matches = Cli::command().color(color_for_clap()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let code = match sharegen::cmd::run(cli) {
        Ok(()) => sharegen::error::exit::OK,
        Err(e) => {
            let code = e
                .downcast_ref::<sharegen::Error>()
                .map_or(sharegen::error::exit::ERROR, sharegen::Error::exit_code);
            eprintln!("{} {e:#}", sharegen::term::error());
            code
        }
    };
    std::process::exit(code);
}
