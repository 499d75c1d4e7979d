//! `safetynet settle` over the store (no file options): settles the store's claims
//! of a year with each region's stored policy, stores a policy, voids a claim, or
//! explains a stored settlement. The work is `store`'s; this module parses the
//! options and prints what happened.

use super::Args;
use crate::Global;
use anyhow::{bail, Context};
use std::path::PathBuf;
use store::{Scope, Store};

pub const HELP: &str = "\
Store mode (no --policy/--persons/--claims; works on --db):
  safetynet settle --store-policy P.toml --region 341122 --year 2024
      stores P.toml as a new version of the policy of region 341122 (a code prefix:
      2 digits a province, 4 a city, 6 a county, 9 a township; \"\" the nation) for 2024;
      a bad policy is refused and nothing is stored
  safetynet settle --policies [--region 34]
      lists the policies in force that concern the region
  safetynet settle --year 2024 [--region 341122]
      settles every unsettled claim of 2024 in the region with the policy in force
      for its village (longest prefix, latest version); claims of a region without a
      policy are reported and left unsettled
  safetynet settle --void CLAIM_ID [--facility F]
      voids a settled claim and re-settles the person's other claims of the year,
      printing what changed
  safetynet settle --explain CLAIM_ID [--facility F]
      explains a stored settlement
Claims are keyed by the facility that submitted them and their ID there:
--facility names the claim's facility (\"\" for a claim imported without one).
Without it the ID must be used at one facility only inside --region; else
the facilities are listed and nothing is done.
--actor names who did it (default: the login name).";

/// The options of store mode.
#[derive(clap::Args, Debug, Default)]
pub struct StoreArgs {
    /// Store mode: the policy year to settle (or to store a policy for).
    #[arg(long)]
    pub year: Option<i32>,
    /// Store mode: a region code prefix limiting the run (default: everything in the store).
    #[arg(long, value_name = "PREFIX")]
    pub region: Option<String>,
    /// Store mode: store this policy file (TOML) for --region and --year, as a new version.
    #[arg(long, value_name = "P.toml")]
    pub store_policy: Option<PathBuf>,
    /// Store mode: list the policies in force that concern --region.
    #[arg(long)]
    pub policies: bool,
    /// Store mode: void this settled claim and re-settle the person's other claims of the year.
    #[arg(long, value_name = "CLAIM_ID")]
    pub void: Option<String>,
    /// Who does it, for the record (default: the login name).
    #[arg(long)]
    pub actor: Option<String>,
}

/// File mode takes none of the store options.
pub fn refuse_store_options(args: &Args) -> anyhow::Result<()> {
    let s = &args.store;
    let given: Vec<&str> = [
        (s.year.is_some(), "--year"),
        (s.region.is_some(), "--region"),
        (s.store_policy.is_some(), "--store-policy"),
        (s.policies, "--policies"),
        (s.void.is_some(), "--void"),
    ]
    .into_iter()
    .filter(|(g, _)| *g)
    .map(|(_, n)| n)
    .collect();
    if !given.is_empty() {
        bail!("{} work on the store; file mode (--policy --persons --claims) takes none of them", given.join(", "));
    }
    if args.out.is_none() && args.explain.is_none() && !args.parse_only {
        bail!("file mode needs --out (or --explain CLAIM_ID)");
    }
    Ok(())
}

pub fn run(args: &Args, global: &Global) -> anyhow::Result<()> {
    let files = [(&args.policy, "--policy"), (&args.persons, "--persons"), (&args.claims, "--claims")];
    if files.iter().any(|(f, _)| f.is_some()) {
        let missing: Vec<&str> = files.iter().filter(|(f, _)| f.is_none()).map(|(_, n)| *n).collect();
        bail!("file mode needs --policy, --persons and --claims; missing: {}", missing.join(", "));
    }
    if args.out.is_some() {
        bail!("--out is for file mode (--policy --persons --claims); store mode writes its results to the store");
    }
    if args.parse_only {
        bail!("--parse-only is for file mode");
    }
    let s = &args.store;
    let who = crate::commands::alert::actor_name(&s.actor);
    let scope = Scope::new(s.region.as_deref().unwrap_or(""))?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async {
        let store = Store::open(&global.db).await?;
        store.migrate().await?;
        let result = work(&store, args, &scope, &who).await;
        store.close().await;
        result
    })
}

async fn work(store: &Store, args: &Args, scope: &Scope, who: &str) -> anyhow::Result<()> {
    let s = &args.store;
    if let Some(path) = &s.store_policy {
        let Some(year) = s.year else { bail!("--store-policy needs --year (the policy year it governs)") };
        let Some(region) = &s.region else {
            bail!("--store-policy needs --region (a code prefix; --region \"\" for the whole nation)")
        };
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read the policy file {}", path.display()))?;
        let rec = app::settlement::put_policy(store, region, year, text.trim_start_matches('\u{feff}'), who)
            .await
            .with_context(|| format!("the policy file {} is refused", path.display()))?;
        let detail = format!("{} version {}", rec.name, rec.version);
        let target = format!("policy {region} {year}");
        crate::identity::audit(store, "put_policy", &target, &detail, s.actor.as_deref()).await?;
        println!(
            "stored policy {:?} for region {} and year {} as version {}",
            rec.name,
            if rec.region.is_empty() { "(nation)" } else { &rec.region },
            rec.year,
            rec.version
        );
        return Ok(());
    }
    if s.policies {
        let list = store.policies(scope).await?;
        println!("region,year,version,name,actor,created_at");
        for p in list {
            println!("{},{},{},{:?},{},{}", p.region, p.year, p.version, p.name, p.actor, p.created_at.to_rfc3339());
        }
        return Ok(());
    }
    if let Some(id) = &s.void {
        // The void's audit row, written in its own transaction, names the
        // operating-system account; `--actor` goes with it.
        let by = match &s.actor {
            Some(a) if !a.trim().is_empty() => format!("{} (as {})", crate::identity::os_identity(), a.trim()),
            _ => crate::identity::os_identity(),
        };
        let key = claim_key(store, scope, id, args.facility.as_deref()).await?;
        let out = app::settlement::void_claim(store, scope, &key, &by).await?;
        println!(
            "voided claim {key} of person {} ({}), re-settled under policy {:?} version {}",
            out.person.masked(),
            out.year,
            out.policy.name,
            out.policy.version
        );
        println!("claim_id,facility_id,tier,old,new,difference");
        for c in &out.changes {
            let (id, f) = (ingest::cells::guard(&c.claim_id), ingest::cells::guard(&c.facility_id));
            for ((tier, old), (_, new)) in c.old.iter().zip(&c.new) {
                println!("{id},{f},{tier},{old},{new},{}", *new - *old);
            }
            let (o, n) = (c.old_out_of_pocket, c.new_out_of_pocket);
            println!("{id},{f},out_of_pocket,{o},{n},{}", n - o);
        }
        return Ok(());
    }
    if let Some(id) = &args.explain {
        let key = claim_key(store, scope, id, args.facility.as_deref()).await?;
        crate::identity::audit(store, "explain_claim", &key.to_string(), "cli", None).await?;
        match app::settlement::explain_stored(store, scope, &key).await? {
            Some(text) => print!("{text}"),
            None => bail!("claim {key} has no stored settlement in this region"),
        }
        return Ok(());
    }
    let Some(year) = s.year else {
        bail!(
            "give the files (--policy --persons --claims --out) to settle files, or --year to settle the store's claims \
             (see --help)"
        )
    };
    let counts = app::settlement::settle_stored(store, scope, year, who).await?;
    let detail = format!("{} claims of {year} settled, {} persons", counts.settled, counts.persons);
    let target = format!("scope {}*", scope.prefix());
    crate::identity::audit(store, "settle_batch", &target, &detail, s.actor.as_deref()).await?;
    println!(
        "settled {} claims of {year} ({} persons); {} were settled before, {} voided, {} left without a policy",
        counts.settled, counts.persons, counts.already_settled, counts.voided, counts.without_policy
    );
    for (village, n) in &counts.missing_policies {
        eprintln!("warning: no settlement policy covers village {village} in {year}: {n} claims left unsettled");
    }
    Ok(())
}

/// The key of a claim named on the command line: its ID with `--facility`, or,
/// without it, the one facility inside the scope where the ID is stored (none
/// is an unknown claim; several are listed, all inside the scope, and nothing is
/// done).
async fn claim_key(store: &Store, scope: &Scope, id: &str, facility: Option<&str>) -> anyhow::Result<domain::ClaimKey> {
    Ok(match facility {
        Some(f) => domain::ClaimKey::new(f.trim(), id),
        None => app::settlement::claim_key_in_scope(store, scope, id).await?,
    })
}
