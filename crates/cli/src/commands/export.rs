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
    /// What to export (not with --parquet).
    #[arg(value_enum, required_unless_present = "parquet")]
    pub kind: Option<Kind>,
    /// The file to write: .csv or .xlsx.
    #[arg(long, required_unless_present = "parquet", conflicts_with = "parquet")]
    pub out: Option<PathBuf>,
    /// Only records inside this region (a code prefix: 2, 4, 6, 9 or 12 digits).
    #[arg(long, default_value = "")]
    pub region: String,
    /// Write everything a cluster's jobs read for --year as Parquet datasets into
    /// this new directory (docs/parquet.md).
    #[arg(long, value_name = "DIR", requires = "year", conflicts_with = "kind")]
    pub parquet: Option<PathBuf>,
    /// The policy year exported with --parquet.
    #[arg(long, requires = "parquet")]
    pub year: Option<i32>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    if let Some(dir) = &args.parquet {
        let year = args.year.context("--parquet needs --year")?;
        return export_parquet(dir, year, &args.region, global);
    }
    let kind = args.kind.context("give the kind to export (or --parquet DIR --year Y)")?;
    let out = args.out.clone().context("give --out FILE")?;
    let args = FileArgs { out, region: args.region };
    match kind {
        Kind::Settlements | Kind::Alerts | Kind::IndicatorFacts => {
            anyhow::bail!("{kind:?} is a cluster's result to import, not a kind to export; see --parquet")
        }
        Kind::Enrolments => {
            anyhow::bail!("enrolments are not exported; read a person's on the person's page or the API")
        }
        Kind::ClaimItems => {
            anyhow::bail!("claim items are not exported; read a claim's on its slip (the page or the API)")
        }
        Kind::PlanVisits => {
            anyhow::bail!("plan visits are not exported; read a plan's on its page or GET /api/v1/plans/{{id}}")
        }
        Kind::Catalogue => export_work(&args, global, |store, _scope| async move {
            store.search_catalogue(None, None, "", Page::first(u32::MAX)).await
        }),
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
        Kind::Postings => {
            export_work(&args, global, |store, scope| async move { Ok(store.network_history(&scope).await?.postings) })
        }
        Kind::Qualifications => {
            export_work(
                &args,
                global,
                |store, scope| async move { Ok(store.network_history(&scope).await?.qualifications) },
            )
        }
        // A pairing's row alone, then a row for each of its staff: as imported.
        Kind::Pairings => export_work(&args, global, |store, scope| async move {
            let mut rows = Vec::new();
            for p in store.pairings(&scope).await? {
                rows.push(domain::PairingRow { pairing: p.pairing.clone(), staff: None });
                for s in p.staff {
                    rows.push(domain::PairingRow { pairing: p.pairing.clone(), staff: Some(s.staff) });
                }
            }
            Ok(rows)
        }),
        Kind::Telemedicine => export_work(&args, global, |store, scope| async move {
            Ok(store.telemedicine_links(&scope).await?.into_iter().map(|l| l.link).collect::<Vec<_>>())
        }),
        Kind::Visits => export_work(&args, global, |store, scope| async move {
            let kept = store.visits(&scope, None, None, Page::first(u32::MAX)).await?;
            Ok(kept.into_iter().map(|v| v.visit).collect::<Vec<_>>())
        }),
    }
}

/// The options of the export of one kind to a file.
struct FileArgs {
    out: PathBuf,
    region: String,
}

/// `export --year Y --parquet DIR [--region PREFIX]`: the year for a cluster's
/// jobs (`app::export`), with a spinner counting the rows written.
fn export_parquet(dir: &std::path::Path, year: i32, region: &str, global: &Global) -> anyhow::Result<()> {
    let scope = Scope::new(region)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let pb = crate::progress::spinner(&format!("exporting {year} as Parquet"), global.quiet);
    let started = std::time::Instant::now();
    let result = rt.block_on(async {
        let store = Store::open(&global.db).await?;
        store.migrate().await?;
        let bar = pb.clone();
        let done = app::export::export_year(&store, dir, &scope, year, &move |n| bar.set_position(n)).await;
        if let Ok(m) = &done {
            let total: u64 = m.rows.values().sum();
            let detail = format!("{year}: {total} rows to {} in scope {}*", dir.display(), scope.prefix());
            crate::identity::audit(&store, "export", "parquet", &detail, None).await?;
        }
        store.close().await;
        anyhow::Ok(done?)
    });
    pb.finish_and_clear();
    let m = result.with_context(|| format!("exporting {year} as Parquet to {}", dir.display()))?;
    if !global.quiet {
        let counts: Vec<String> = m.rows.iter().map(|(k, n)| format!("{n} {k}")).collect();
        println!(
            "exported {year}{} to {} in {:.1?}: {}",
            if m.region.is_empty() { String::new() } else { format!(" of region {}", m.region) },
            dir.display(),
            started.elapsed(),
            counts.join(", ")
        );
    }
    Ok(())
}

/// Exports the records of the daily work inside the region, as `import` reads them.
fn export_work<R, F, Fut>(args: &FileArgs, global: &Global, read: F) -> anyhow::Result<()>
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

fn export<R: StoredRecord>(args: &FileArgs, global: &Global) -> anyhow::Result<()> {
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
