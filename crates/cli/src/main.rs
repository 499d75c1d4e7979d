//! `safetynet`: the one binary. It parses arguments and wires the crates; the work
//! itself lives in them. Each command has its own module under `commands/`.

mod commands;
mod identity;
mod progress;

use clap::{Parser, Subcommand};

/// SafetyNet: the dynamic management system of health poverty alleviation.
#[derive(Parser, Debug)]
#[command(name = "safetynet", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts, before or after its name.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// The store: a SQLite file path or a postgres:// URL.
    #[arg(long, global = true, env = "SAFETYNET_DB", default_value = "./safetynet.db")]
    pub db: String,
    /// More log output (-v info, -vv debug); also RUST_LOG.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bars.
    #[arg(long, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate a synthetic county, load it, compute everything and serve the web application.
    Demo(commands::demo::Args),
    /// Write a synthetic province (or county) as files.
    Synth(commands::synth::Args),
    /// Create or upgrade the store's schema.
    Migrate(commands::migrate::Args),
    /// Import a file of one kind into the store (CSV or XLSX).
    Import(commands::import::Args),
    /// Export one kind from the store (CSV or XLSX, by the file's extension).
    Export(commands::export::Args),
    /// Settle claims under a policy: files in, file out, or the store's claims.
    Settle(commands::settle::Args),
    /// Measure households' medical burden and raise early warnings.
    Monitor(commands::monitor::Args),
    /// Move an alert through its life cycle and record assistance.
    Alert(commands::alert::Args),
    /// Find blank spots of the rural health network, now and coming.
    Coverage(commands::coverage::Args),
    /// Network alerts: villages and township centres blank now or within a horizon; --raise keeps them as cases.
    NetworkAlerts(commands::network_alerts::Args),
    /// Plan roving and dispatched doctors for blank villages.
    Plan(commands::plan::Args),
    /// Serve the web application and the HTTP API.
    Serve(commands::serve::Args),
    /// Programme indicators by region level and period (CSV or XLSX).
    Report(commands::report::Args),
    /// Compare a draft policy with the policy in force over a year of claims, by county.
    Whatif(commands::whatif::Args),
    /// Write the work ledger (台账) of a region: the three batches, cases, visits.
    Ledger(commands::ledger::Args),
    /// Reconcile a facility's settlements with the funds over a period (XLSX or CSV).
    Reconcile(commands::reconcile::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
    let result = dispatch(cli.command, &cli.global);
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

/// Runs one command.
pub fn dispatch(command: Command, global: &Global) -> anyhow::Result<()> {
    match command {
        Command::Demo(a) => commands::demo::run(a, global),
        Command::Synth(a) => commands::synth::run(a, global),
        Command::Migrate(a) => commands::migrate::run(a, global),
        Command::Import(a) => commands::import::run(a, global),
        Command::Export(a) => commands::export::run(a, global),
        Command::Settle(a) => commands::settle::run(a, global),
        Command::Monitor(a) => commands::monitor::run(a, global),
        Command::Alert(a) => commands::alert::run(a, global),
        Command::Coverage(a) => commands::coverage::run(a, global),
        Command::NetworkAlerts(a) => commands::network_alerts::run(a, global),
        Command::Plan(a) => commands::plan::run(a, global),
        Command::Serve(a) => commands::serve::run(a, global),
        Command::Report(a) => commands::report::run(a, global),
        Command::Whatif(a) => commands::whatif::run(a, global),
        Command::Ledger(a) => commands::ledger::run(a, global),
        Command::Reconcile(a) => commands::reconcile::run(a, global),
    }
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        // sqlx reports slow statements at warn, with the whole statement: too loud
        // for bulk imports, whose batches are slow by design.
        0 => "warn,sqlx=error",
        1 => "info,sqlx=warn",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
