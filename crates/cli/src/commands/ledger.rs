//! `safetynet ledger`: the work ledger (台账) of a region and year as a workbook
//! (docs/work.md, "The work ledger"): a summary by village, township or county,
//! the three batches with what each patient is still owed, the cases and their
//! measures, the visits, the network cases. With `.csv`, one of its tables
//! (`--table`).

use crate::Global;
use anyhow::Context;
use domain::RegionLevel;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rows of the summary: village, township or county.
    #[arg(long, default_value = "township")]
    pub level: RegionLevel,
    /// Only this region (a code prefix: 2, 4, 6, 9 or 12 digits); all by default.
    #[arg(long, default_value = "")]
    pub region: String,
    /// The year of the patient ledger (default: the current year).
    #[arg(long)]
    pub year: Option<i32>,
    /// The day the ledger is as of (overdue cases, this quarter's follow-ups);
    /// today by default.
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// The file to write: .xlsx (every table) or .csv (one table).
    #[arg(long)]
    pub out: PathBuf,
    /// With a .csv file, the table to write (汇总, 大病集中救治, 慢病签约服务,
    /// 重病兜底保障, 个案与帮扶, 走访记录, 网络个案); the summary by default.
    #[arg(long)]
    pub table: Option<String>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    use chrono::Datelike;
    let today = args.as_of.unwrap_or_else(domain::time::china_today);
    let year = args.year.unwrap_or(today.year());
    let scope = app::Scope::parse(&args.region).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let pb = crate::progress::spinner("reading the ledger", global.quiet);
    let tables = rt.block_on(async {
        let app = app::App::open(&global.db).await?;
        let t = app::ledger::ledger_book(&app, &scope, year, args.level, today, app::Masking::Clear).await;
        if t.is_ok() {
            let detail = format!("{year} as of {today} to {}", args.out.display());
            crate::identity::audit(app.store(), "export", "ledger", &detail, None).await?;
        }
        app.close().await;
        anyhow::Ok(t?)
    })?;
    pb.finish_and_clear();
    ingest::tables::write_tables(&args.out, &tables, args.table.as_deref())?;
    if !global.quiet {
        let counts: Vec<String> = tables.iter().map(|t| format!("{} {}", t.name, t.rows.len())).collect();
        println!("ledger of {year} as of {today} written to {}: {}", args.out.display(), counts.join(", "));
    }
    Ok(())
}
