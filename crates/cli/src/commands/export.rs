//! `safetynet export KIND --out FILE [--region PREFIX]`: writes the records of one
//! kind from the store, CSV (UTF-8, header = the import columns) or XLSX by the
//! file's extension, so that an export imports back unchanged.
//!
//! Records stream from the store in chunks into the file; the file is written
//! atomically (`ingest::replace_atomically`: a temporary name beside the target,
//! renamed at the end), so a failed export never leaves a half file where a whole
//! one is expected.

use super::import::Kind;
use crate::Global;
use anyhow::Context;
use domain::{Claim, Facility, Household, Person, Practitioner, Region, Threshold};
use ingest::RecordWriter;
use std::path::PathBuf;
use store::{Page, Scope, Store, StoredRecord};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to export.
    #[arg(value_enum)]
    pub kind: Kind,
    /// The file to write: .csv or .xlsx.
    #[arg(long)]
    pub out: PathBuf,
    /// Only records inside this region (a code prefix: 2, 4, 6, 9 or 12 digits).
    #[arg(long, default_value = "")]
    pub region: String,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    match args.kind {
        Kind::Regions => export::<Region>(&args, global),
        Kind::Households => export::<Household>(&args, global),
        Kind::Persons => export::<Person>(&args, global),
        Kind::Facilities => export::<Facility>(&args, global),
        Kind::Practitioners => export::<Practitioner>(&args, global),
        Kind::Claims => export::<Claim>(&args, global),
        Kind::Thresholds => export::<Threshold>(&args, global),
        Kind::Contracts => export_work(&args, global, |store, scope| async move {
            let kept = store.doctor_contracts(&scope, None, Page::first(u32::MAX)).await?;
            Ok(kept.into_iter().map(|k| k.contract).collect::<Vec<_>>())
        }),
        Kind::Visits => export_work(&args, global, |store, scope| async move {
            let kept = store.visits(&scope, None, None, Page::first(u32::MAX)).await?;
            Ok(kept.into_iter().map(|v| v.visit).collect::<Vec<_>>())
        }),
    }
}

/// Exports the records of the daily work inside the region, as `import` reads them.
fn export_work<R, F, Fut>(args: &Args, global: &Global, read: F) -> anyhow::Result<()>
where
    R: domain::Record,
    F: FnOnce(Store, Scope) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<R>, store::StoreError>>,
{
    let scope = Scope::new(&args.region)?;
    let format = ingest::Format::to_write(&args.out)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let rows = rt.block_on(async {
        let store = Store::open(&global.db).await?;
        store.migrate().await?;
        let rows = read(store.clone(), scope.clone()).await?;
        let detail = format!("{} rows to {} in scope {}*", rows.len(), args.out.display(), scope.prefix());
        crate::identity::audit(&store, "export", R::KIND, &detail, None).await?;
        store.close().await;
        anyhow::Ok(rows)
    })?;
    ingest::replace_atomically(&args.out, |tmp| {
        let mut writer = RecordWriter::<R>::create_as(tmp, format)?;
        for r in &rows {
            writer.write(r)?;
        }
        writer.finish()
    })
    .with_context(|| format!("exporting {} to {}", R::KIND, args.out.display()))?;
    if !global.quiet {
        println!("{} {} written to {}", rows.len(), R::KIND, args.out.display());
    }
    Ok(())
}

fn export<R: StoredRecord>(args: &Args, global: &Global) -> anyhow::Result<()> {
    let scope = Scope::new(&args.region)?;
    // Refuse a bad extension (and the old .xls) before touching the store.
    let format = ingest::Format::to_write(&args.out)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let pb = crate::progress::spinner(&format!("exporting {}", R::KIND), global.quiet);
    let result = ingest::replace_atomically(&args.out, |tmp| {
        let mut writer = RecordWriter::<R>::create_as(tmp, format)?;
        let n = rt.block_on(async {
            let store = Store::open(&global.db).await?;
            store.migrate().await?;
            let n = store
                .export::<R, ingest::IngestError>(&scope, |chunk| {
                    for r in &chunk {
                        writer.write(r)?;
                    }
                    pb.inc(chunk.len() as u64);
                    Ok(())
                })
                .await;
            if let Ok(n) = &n {
                let detail = format!("{n} rows to {} in scope {}*", args.out.display(), scope.prefix());
                crate::identity::audit(&store, "export", R::KIND, &detail, None).await?;
            }
            store.close().await;
            anyhow::Ok(n?)
        })?;
        writer.finish()?;
        anyhow::Ok(n)
    });
    pb.finish_and_clear();
    let n = result.with_context(|| format!("exporting {} to {}", R::KIND, args.out.display()))?;
    if !global.quiet {
        let within = if scope.prefix().is_empty() { String::new() } else { format!(" in region {}", scope.prefix()) };
        println!("{n} {}{within} written to {}", R::KIND, args.out.display());
    }
    Ok(())
}
