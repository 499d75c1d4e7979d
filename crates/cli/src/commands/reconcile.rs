//! `safetynet reconcile`: a facility's reconciliation with the funds over a
//! period (docs/desk.md, "Reconciliation"; docs/files.md): per day and fund the
//! settlements, voids and corrections, and a statement per fund from which the
//! fund pays the hospital. A workbook (.xlsx: the summary and one statement per
//! fund) or one table as CSV (.csv: the summary, or `--fund F`'s statement).

use crate::Global;
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The facility.
    #[arg(long)]
    pub facility: String,
    /// The first day (China's time), YYYY-MM-DD.
    #[arg(long)]
    pub from: chrono::NaiveDate,
    /// The last day, included.
    #[arg(long)]
    pub to: chrono::NaiveDate,
    /// Only a facility inside this region (a code prefix); any by default.
    #[arg(long, default_value = "")]
    pub region: String,
    /// The file to write: .xlsx (every table) or .csv (one table).
    #[arg(long)]
    pub out: PathBuf,
    /// With a .csv file, the fund whose statement to write; the summary by default.
    #[arg(long)]
    pub fund: Option<String>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let scope = app::Scope::parse(&args.region).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let rec = rt.block_on(async {
        let app = app::App::open(&global.db).await?;
        let r = app.reconcile(&scope, &args.facility, args.from, args.to).await;
        if r.is_ok() {
            let detail = format!(
                "reconciliation of {} from {} to {} to {}",
                args.facility,
                args.from,
                args.to,
                args.out.display()
            );
            crate::identity::audit(app.store(), "export", &args.facility, &detail, None).await?;
        }
        app.close().await;
        anyhow::Ok(r?)
    })?;
    if let Some(f) = &args.fund {
        if !rec.funds.iter().any(|x| x == f) {
            anyhow::bail!(
                "--fund: {f:?} is not a fund of this reconciliation; expected one of {}",
                rec.funds.join(", ")
            );
        }
    }
    let tables = rec.tables(app::Masking::Clear);
    let sheet: Option<String> = args.fund.as_ref().map(|f| f.chars().take(31).collect());
    ingest::tables::write_tables(&args.out, &tables, sheet.as_deref())?;
    if !global.quiet {
        for t in &rec.totals {
            println!(
                "{}: settled {}, voided {}, corrected {}, net {}",
                t.fund, t.settled, t.voided, t.corrected, t.net
            );
        }
        println!("{} lines written to {}", rec.lines.len(), args.out.display());
    }
    Ok(())
}
