//! `safetynet network-alerts`: the villages and township centres of a region
//! blank today, or made blank within the horizon by a change in the network's
//! history (docs/coverage.md, "Network alerts"), written as CSV to stdout.
//! With `--raise` they are kept (docs/work.md, "Network cases"): new gaps
//! raised, each opening a case of the township and county that must fill it;
//! gaps found again left as one alert; gaps no longer found resolved.

use super::coverage::SettingArgs;
use crate::Global;
use anyhow::Context;
use chrono::NaiveDate;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The region (a code prefix: 34, 3411, 341122, ...); the whole store by default.
    #[arg(long, default_value = "")]
    pub region: String,
    /// The horizon in years from today: 0 to 5.
    #[arg(long, default_value_t = 1)]
    pub horizon: i32,
    /// Keep the alerts and open their cases (else only list them).
    #[arg(long)]
    pub raise: bool,
    /// The day taken as today (YYYY-MM-DD); default today.
    #[arg(long, value_parser = super::coverage::parse_day)]
    pub as_of: Option<NaiveDate>,
    /// Who raises them, as the records name them; default the account running the command.
    #[arg(long)]
    pub actor: Option<String>,
    #[command(flatten)]
    pub settings: SettingArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let today = args.as_of.unwrap_or_else(app::history::today);
    let scope = app::Scope::parse(&args.region).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    let (settings, _) = args.settings.settings()?;
    if !(0..=app::network_alerts::MAX_YEARS).contains(&args.horizon) {
        anyhow::bail!("--horizon: {} is not 0 to {}", args.horizon, app::network_alerts::MAX_YEARS);
    }
    let actor = super::alert::actor_name(&args.actor);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async {
        let app = app::App::open(&global.db).await?;
        let r = run_on(&app, &scope, today, &args, &settings, &actor).await;
        app.close().await;
        r
    })
}

async fn run_on(
    app: &app::App,
    scope: &app::Scope,
    today: NaiveDate,
    args: &Args,
    settings: &coverage::Settings,
    actor: &str,
) -> anyhow::Result<()> {
    if args.raise {
        let r = app.raise_network_alerts(scope, today, args.horizon, settings, actor).await?;
        let detail = format!(
            "scope {}* up to {}: {} raised, {} seen again, {} resolved",
            scope.prefix(),
            r.until,
            r.kept.raised.len(),
            r.kept.seen,
            r.kept.resolved.len()
        );
        crate::identity::audit(app.store(), "network_alerts_raise", "network alerts", &detail, Some(actor)).await?;
        println!(
            "network alerts from {} to {}: {} found; {} raised with their cases, {} kept already, {} resolved",
            r.today,
            r.until,
            r.found,
            r.kept.raised.len(),
            r.kept.seen,
            r.kept.resolved.len()
        );
        return Ok(());
    }
    let alerts = app.network_alerts(scope, today, args.horizon, settings).await?;
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    w.write_record(["kind", "region_code", "name", "township", "county", "from", "change", "causes"])?;
    for a in &alerts {
        let f = app::network_cases::found(a);
        w.write_record([
            f.kind,
            f.region.to_string(),
            f.name,
            f.township.map(|c| c.short()).unwrap_or_default(),
            f.county.map(|c| c.short()).unwrap_or_default(),
            f.blank_from.to_string(),
            f.change,
            f.detail,
        ])?;
    }
    w.flush()?;
    Ok(())
}
