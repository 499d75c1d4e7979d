//! `safetynet alert`: the work ledger of early warnings over the store. Lists and
//! shows alerts inside a region, moves one through its life cycle (`open ->
//! verifying -> assisting -> resolved`, or `dismissed` with a reason) and records
//! assistance measures; every change is recorded with `--actor`, the time and the
//! note. The rules of the life cycle are `monitor`'s, the records `store`'s.

use crate::Global;
use anyhow::Context;
use domain::Fen;
use monitor::AlertState;
use store::{AlertQuery, NewMeasure, Page, Scope, Store, StoredAlert};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  safetynet alert list --region 341122 --state open --year 2024
  safetynet alert show 17
  safetynet alert move 17 --to verifying --actor wang --note \"visited the household\"
  safetynet alert assist 17 --kind temporary_relief --amount 2000 --by \"civil affairs bureau\" --actor wang
  safetynet alert move 17 --to resolved --actor wang --note \"relief paid\"
States: open, verifying, assisting, resolved, dismissed. `resolved` needs a recorded
measure; `dismissed` (from open or verifying) needs the reason in --note.")]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
    /// The region (code prefix) the user works in; alerts outside it are not found.
    #[arg(long, global = true, value_name = "PREFIX")]
    pub region: Option<String>,
    /// Who does it, for the record (default: the login name).
    #[arg(long, global = true)]
    pub actor: Option<String>,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// List alerts (CSV on standard output), newest year first.
    List {
        #[arg(long)]
        state: Option<AlertState>,
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        rule: Option<String>,
        #[arg(long)]
        household: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// Show one alert with its history and measures.
    Show { id: i64 },
    /// Move an alert to another state.
    Move {
        id: i64,
        #[arg(long)]
        to: AlertState,
        /// Why; required to dismiss.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record an assistance measure on an alert.
    Assist {
        id: i64,
        /// What was given: medical_assistance, temporary_relief, low_income_enrolment, ...
        #[arg(long)]
        kind: String,
        /// How much, in yuan (at most two decimals).
        #[arg(long)]
        amount: String,
        /// Who gave it (an agency or a person).
        #[arg(long)]
        by: String,
        /// When it was given (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<chrono::NaiveDate>,
        #[arg(long, default_value = "")]
        note: String,
    },
}

/// The actor named, or the login name, or `cli`.
pub fn actor_name(given: &Option<String>) -> String {
    if let Some(a) = given.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        return a.to_string();
    }
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_default();
    if user.trim().is_empty() {
        "cli".into()
    } else {
        user
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let scope = Scope::new(args.region.as_deref().unwrap_or(""))?;
    let actor = actor_name(&args.actor);
    let rt =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async {
        let store = Store::open(&global.db).await?;
        store.migrate().await?;
        let result = act(&store, &scope, &actor, args.action).await;
        store.close().await;
        result
    })
}

async fn act(store: &Store, scope: &Scope, actor: &str, action: Action) -> anyhow::Result<()> {
    match action {
        Action::List { state, year, rule, household, limit, offset } => {
            let q = AlertQuery { state, year, rule, household, region: None };
            let list = store.alerts(scope, &q, Page { offset, limit }).await?;
            let detail = format!("{} alerts listed", list.len());
            crate::identity::audit(store, "list_alerts", &format!("scope {}*", scope.prefix()), &detail, None).await?;
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record([
                "id",
                "rule",
                "household_id",
                "village_code",
                "year",
                "state",
                "value",
                "threshold",
                "updated_at",
            ])?;
            for a in list {
                w.write_record([
                    a.id.to_string(),
                    a.rule,
                    a.household_id,
                    a.village.to_string(),
                    a.year.to_string(),
                    a.state.to_string(),
                    a.value,
                    a.threshold,
                    a.updated_at.to_rfc3339(),
                ])?;
            }
            w.flush()?;
        }
        Action::Show { id } => {
            let a = store.alert(scope, id).await?.with_context(|| format!("alert {id} is not in this region"))?;
            crate::identity::audit(store, "view_alert", &format!("alert {id}"), "cli", None).await?;
            print!("{}", render(&a));
        }
        Action::Move { id, to, note } => {
            let a = app::monitoring::transition_alert(store, scope, id, to, actor, &note).await?;
            let detail = format!("-> {to}: {note}");
            crate::identity::audit(store, "alert_transition", &format!("alert {id}"), &detail, Some(actor)).await?;
            println!("alert {} ({} of household {} in {}) is now {}", a.id, a.rule, a.household_id, a.year, a.state);
        }
        Action::Assist { id, kind, amount, by, date, note } => {
            let amount = Fen::parse_yuan(amount.trim()).map_err(|e| anyhow::anyhow!("--amount {amount:?}: {e}"))?;
            let date = date.unwrap_or_else(domain::time::china_today);
            let detail = format!("{kind} {amount} by {by}");
            let m = NewMeasure { kind, amount, by, date, note };
            let a = app::monitoring::add_assistance(store, scope, id, &m, actor).await?;
            crate::identity::audit(store, "alert_measure", &format!("alert {id}"), &detail, Some(actor)).await?;
            println!("alert {} has {} recorded measure(s); state {}", a.id, a.measures.len(), a.state);
        }
    }
    Ok(())
}

/// An alert as text for a clerk.
fn render(a: &StoredAlert) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ =
        writeln!(o, "alert {}: {} for household {} (village {}), {}", a.id, a.rule, a.household_id, a.village, a.year);
    let _ = writeln!(o, "state: {}", a.state);
    if a.threshold.is_empty() {
        let _ = writeln!(o, "value: {}", a.value);
    } else {
        let _ = writeln!(o, "value: {} (threshold {})", a.value, a.threshold);
    }
    let _ = writeln!(o, "history:");
    for e in &a.events {
        let from = e.from.map(|f| f.to_string()).unwrap_or_else(|| "-".into());
        let _ = writeln!(o, "  {}  {} -> {}  by {}  {}", e.at.to_rfc3339(), from, e.to, e.actor, e.note);
    }
    if !a.measures.is_empty() {
        let _ = writeln!(o, "measures:");
        for m in &a.measures {
            let _ = writeln!(
                o,
                "  {}  {}  {} yuan  by {}  (recorded by {})  {}",
                m.date, m.kind, m.amount, m.by, m.recorded_by, m.note
            );
        }
    }
    o
}
