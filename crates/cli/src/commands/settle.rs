//! `safetynet settle`: settles a claims file under a policy file, file in, file out.
//!
//! The files are `ingest::settlement_files`': reading persons and claims (UTF-8,
//! with or without BOM, claims kept compact), every bad row with file, line,
//! column and reason, and the settlement file written atomically (a refused input
//! leaves no output). The arithmetic is the `settle` crate's. This module keeps
//! the arguments, the progress bars and the explanation of one claim.

use crate::progress;
use crate::Global;
use anyhow::{bail, Context};
use chrono::Datelike;
use ingest::settlement_files::{self as files, Claims, Persons};
use ingest::RowError;
use settle::{Accumulators, Policy};
use std::path::PathBuf;

mod store_mode;

/// File mode: `--policy P.toml --persons F --claims F --out F` settles a file of
/// claims without a store. Store mode (no file options, see `--year`): settles the
/// store's claims, stores a policy, voids a claim, or explains a stored settlement.
#[derive(clap::Args, Debug)]
#[command(after_help = store_mode::HELP)]
pub struct Args {
    /// File mode: the policy file (TOML, docs/settlement.md "Policy file").
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// File mode: the persons file (CSV): needs the columns person_id and status.
    #[arg(long)]
    pub persons: Option<PathBuf>,
    /// File mode: the claims file (CSV with the claims columns).
    #[arg(long)]
    pub claims: Option<PathBuf>,
    /// File mode: where to write the settlements (CSV). Written only if every row is good.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the explanation of this claim's settlement (from the files, or from the store).
    #[arg(long, value_name = "CLAIM_ID")]
    pub explain: Option<String>,
    /// The facility of the claim named by --explain or --void: claim IDs are the
    /// facility's ("" for claims without one). Needed only where the ID is used
    /// at several facilities.
    #[arg(long, value_name = "FACILITY_ID")]
    pub facility: Option<String>,
    #[command(flatten)]
    pub store: store_mode::StoreArgs,
    /// Only read and check the files (for benchmarks).
    #[arg(long, hide = true)]
    pub parse_only: bool,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let (Some(policy_path), Some(persons_path), Some(claims_path)) = (&args.policy, &args.persons, &args.claims) else {
        return store_mode::run(&args, global);
    };
    store_mode::refuse_store_options(&args)?;
    let policy = files::read_policy(policy_path)?;

    let mut errors = Vec::new();
    let started = std::time::Instant::now();
    let persons = files::read_persons(persons_path, &mut errors)?;
    let len = std::fs::metadata(claims_path).map(|m| m.len()).unwrap_or(0);
    let pb = progress::bar(len, "reading", global.quiet);
    let mut claims = files::read_claims(claims_path, &persons, &mut errors, &mut |done, _| pb.set_position(done))?;
    pb.finish_and_clear();
    if args.parse_only {
        refuse_if_any(&errors)?;
        eprintln!("read {} persons and {} claims", persons.ids.len(), claims.rows.len());
        return Ok(());
    }
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "read the persons and claims");
    let order = files::check_and_order(&mut claims, claims_path, &mut errors);
    refuse_if_any(&errors)?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "checked the claim ids and ordered the claims");

    if let Some(out) = &args.out {
        let pb = progress::bar(order.len() as u64, "settling", global.quiet);
        let written =
            files::write_settlements(out, &policy, &persons, &claims, &order, &mut |done, _| pb.set_position(done));
        pb.finish_and_clear();
        written.with_context(|| format!("cannot write {}", out.display()))?;
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), "settled and wrote {}", out.display());
    }
    if let Some(id) = &args.explain {
        print!("{}", explain_claim(&policy, &persons, &claims, &order, id, args.facility.as_deref())?);
    }
    Ok(())
}

fn refuse_if_any(errors: &[RowError]) -> anyhow::Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    for e in errors {
        eprintln!("{}", e.labelled());
    }
    bail!("{} bad row{} (listed above); nothing was written", errors.len(), if errors.len() == 1 { "" } else { "s" })
}

/// The explanation of one claim: its person's earlier claims of the year are
/// settled first (accumulators are per person and year, so nothing else matters).
fn explain_claim(
    policy: &Policy,
    persons: &Persons,
    claims: &Claims,
    order: &[u32],
    id: &str,
    facility: Option<&str>,
) -> anyhow::Result<String> {
    let Some(target) = claims.find(id, facility) else {
        let at: Vec<&str> = claims.find_all(id).into_iter().map(|i| claims.facility(i)).collect();
        match (facility, at.len()) {
            (Some(f), _) => bail!("the claim {id:?} of the facility {f:?} is not in the claims file"),
            (None, 0) => bail!("the claim {id:?} is not in the claims file"),
            (None, _) => bail!(
                "the claim id {id:?} is used at {} facilities ({}): name one with --facility",
                at.len(),
                at.join(", ")
            ),
        }
    };
    let t = &claims.rows[target];
    let status = persons.statuses[t.person as usize];
    let mut acc = Accumulators::new(policy);
    let mut earlier = 0;
    for &i in order {
        let i = i as usize;
        if i == target {
            break;
        }
        let c = &claims.rows[i];
        if c.person == t.person && c.discharged.year() == t.discharged.year() {
            settle::settle_claim(policy, &c.input, status, &mut acc);
            earlier += 1;
        }
    }
    let ex = settle::explain(policy, &t.input, status, &acc);
    let mut text = format!(
        "Claim {} of person {}, discharged {} (policy year {}), policy {:?}\n\
         Settled after {earlier} earlier claim{} of this person in the year.\n",
        domain::ClaimKey::new(claims.facility(target), id),
        persons.ids[t.person as usize],
        t.discharged,
        t.discharged.year(),
        policy.name,
        if earlier == 1 { "" } else { "s" },
    );
    text.push_str(&ex.render(policy));
    Ok(text)
}
