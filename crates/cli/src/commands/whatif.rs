//! `safetynet whatif`: a draft policy against the policy in force, over one year
//! of claims, compared by county (what each fund pays, households' out-of-pocket
//! deciles, households crossing each warning rule, cost per household kept off
//! the list).
//!
//! This module owns the files and the wiring: both policies settle the same
//! claims with `settle::settle_in_order` (one settlement order, shared), both
//! results are monitored with `monitor::monitor_year`, and `indicators::whatif`
//! tallies and compares. The two policies run side by side on two threads.

use crate::Global;
use anyhow::{bail, Context};
use domain::{Catalogue, Claim, Household, Person, RegionCode, Threshold};
use indicators::extract::FundAmounts;
use indicators::whatif::{compare, Comparison, Scenario};
use monitor::{Member, RuleSet, SettledCost, ThresholdTable};
use settle::{BatchClaim, ClaimInput, Policy};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The policy in force (TOML, specs/settlement.md).
    #[arg(long)]
    pub policy_in_force: PathBuf,
    /// The draft policy (TOML).
    #[arg(long)]
    pub draft: PathBuf,
    /// Persons file (CSV or XLSX).
    #[arg(long)]
    pub persons: PathBuf,
    /// Households file (CSV or XLSX).
    #[arg(long)]
    pub households: PathBuf,
    /// Claims file (CSV or XLSX); claims of other years are ignored.
    #[arg(long)]
    pub claims: PathBuf,
    /// Thresholds: TOML ([[threshold]]) or CSV.
    #[arg(long)]
    pub thresholds: PathBuf,
    /// The policy year compared.
    #[arg(long)]
    pub year: i32,
    /// A region's warning rules (TOML) over the default rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Where to write the comparison: .csv or .xlsx.
    #[arg(long)]
    pub out: PathBuf,
}

fn read<R: domain::Record>(path: &Path) -> anyhow::Result<Vec<R>> {
    let rows = ingest::read_file::<R>(path, &mut |_, _| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(rows.into_iter().map(|r| r.record).collect())
}

pub(crate) fn read_policy(path: &Path) -> anyhow::Result<Policy> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the policy file {}", path.display()))?;
    Policy::parse(text.trim_start_matches('\u{feff}'))
        .with_context(|| format!("the policy file {} is refused", path.display()))
}

pub(crate) fn read_thresholds(path: &Path) -> anyhow::Result<Vec<Threshold>> {
    let is_toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let rows = if is_toml {
        ingest::read_thresholds_toml(path).map_err(|e| anyhow::anyhow!("{e}"))?
    } else {
        ingest::read_file::<Threshold>(path, &mut |_, _| {}).map_err(|e| anyhow::anyhow!("{e}"))?
    };
    Ok(rows.into_iter().map(|r| r.record).collect())
}

/// The output kind from the file's extension.
pub(crate) fn is_xlsx(out: &Path) -> anyhow::Result<bool> {
    match out.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("xlsx") => Ok(true),
        Some("csv") => Ok(false),
        _ => bail!("{}: the output must end in .csv or .xlsx", out.display()),
    }
}

/// Writes through a temporary file renamed into place, so a failure leaves nothing.
pub(crate) fn write_file(
    out: &Path,
    body: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().context("the output path has no file name")?.to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let f = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = std::io::BufWriter::new(f);
        body(&mut w)?;
        std::io::Write::flush(&mut w)?;
        std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Everything both scenarios share, read and joined once.
pub struct Inputs {
    pub households: Vec<Household>,
    pub members: Vec<Member>,
    pub claims: Vec<Claim>,
    pub batch: Vec<BatchClaim>,
    /// Settlement order of `batch`.
    pub order: Vec<u32>,
    pub statuses: Vec<domain::PovertyStatus>,
    /// Household index of each claim's person.
    pub claim_household: Vec<u32>,
    pub villages: Vec<RegionCode>,
    pub thresholds: ThresholdTable,
    pub rules: RuleSet,
    pub year: i32,
}

impl Inputs {
    pub fn join(
        households: Vec<Household>,
        persons: Vec<Person>,
        claims: Vec<Claim>,
        thresholds: Vec<Threshold>,
        rules: RuleSet,
        year: i32,
    ) -> anyhow::Result<Inputs> {
        let hindex: HashMap<&str, u32> =
            households.iter().enumerate().map(|(i, h)| (h.household_id.as_str(), i as u32)).collect();
        let mut pindex = HashMap::with_capacity(persons.len());
        let mut statuses = Vec::with_capacity(persons.len());
        let mut person_household = Vec::with_capacity(persons.len());
        for p in &persons {
            let Some(&h) = hindex.get(p.household_id.as_str()) else {
                bail!(
                    "person {} names the household {}, which is not in the households file",
                    p.person_id,
                    p.household_id
                );
            };
            pindex.insert(p.person_id, statuses.len() as u32);
            statuses.push(p.status);
            person_household.push(h);
        }
        let claims: Vec<Claim> = claims.into_iter().filter(|c| c.year() == year).collect();
        let mut batch = Vec::with_capacity(claims.len());
        let mut claim_household = Vec::with_capacity(claims.len());
        for c in &claims {
            let Some(&p) = pindex.get(&c.person_id) else {
                bail!("claim {} names the person {}, who is not in the persons file", c.claim_id, c.person_id);
            };
            batch.push(BatchClaim { person: p, discharged: c.discharged, input: ClaimInput::from(c) });
            claim_household.push(person_household[p as usize]);
        }
        let order = settle::settlement_order(&batch, |i| claims[i].claim_id.as_str());
        let villages = households.iter().map(|h| h.village_code).collect();
        let members = persons.iter().map(Member::from).collect();
        Ok(Inputs {
            households,
            members,
            claims,
            batch,
            order,
            statuses,
            claim_household,
            villages,
            thresholds: ThresholdTable::new(&thresholds),
            rules,
            year,
        })
    }

    /// Settles and monitors the year under one policy.
    pub fn scenario(&self, policy: &Policy) -> anyhow::Result<Scenario> {
        let mut s = Scenario::new(&self.villages);
        let mut costs = Vec::with_capacity(self.claims.len());
        settle::settle_in_order(policy, &self.batch, &self.order, &self.statuses, |i, payments, oop| {
            let paid = FundAmounts::from_tiers(&policy.names, payments);
            s.add_claim(self.claim_household[i], &paid, oop);
            costs.push(SettledCost { person_id: self.claims[i].person_id, year: self.year, out_of_pocket: oop });
            true
        });
        let result = monitor::monitor_year(
            self.year,
            &self.households,
            &self.members,
            &self.claims,
            &costs,
            &self.thresholds,
            &self.rules,
            &Catalogue::serious(),
        )
        .map_err(|e| anyhow::anyhow!("monitoring under the policy {:?}: {e}", policy.name))?;
        let hindex: HashMap<&str, u32> =
            self.households.iter().enumerate().map(|(i, h)| (h.household_id.as_str(), i as u32)).collect();
        for a in &result.alerts {
            if let Some(&h) = hindex.get(a.household_id.as_str()) {
                s.add_alert(&a.rule, h);
            }
        }
        Ok(s)
    }

    /// Both scenarios, side by side, compared.
    pub fn compare(&self, in_force: &Policy, draft: &Policy) -> anyhow::Result<Comparison> {
        let (a, b) = std::thread::scope(|sc| {
            let a = sc.spawn(|| self.scenario(in_force));
            let b = self.scenario(draft);
            (a.join(), b)
        });
        let a = a.map_err(|_| anyhow::anyhow!("the settlement thread panicked"))??;
        Ok(compare(&a, &b?))
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let in_force = read_policy(&args.policy_in_force)?;
    let draft = read_policy(&args.draft)?;
    let xlsx = is_xlsx(&args.out)?;
    let rules = match &args.rules {
        Some(r) => {
            let text = std::fs::read_to_string(r).with_context(|| format!("reading {}", r.display()))?;
            RuleSet::from_region_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", r.display()))?
        }
        None => RuleSet::defaults(),
    };
    let spinner = crate::progress::spinner("reading", global.quiet);
    let (h, p, c) = std::thread::scope(|s| {
        let h = s.spawn(|| read::<Household>(&args.households));
        let p = s.spawn(|| read::<Person>(&args.persons));
        let c = read::<Claim>(&args.claims);
        (h.join(), p.join(), c)
    });
    let households = h.map_err(|_| anyhow::anyhow!("a reader panicked"))??;
    let persons = p.map_err(|_| anyhow::anyhow!("a reader panicked"))??;
    let claims = c?;
    let thresholds = read_thresholds(&args.thresholds)?;
    spinner.set_message("settling and monitoring");
    let inputs = Inputs::join(households, persons, claims, thresholds, rules, args.year)?;
    let comparison = inputs.compare(&in_force, &draft)?;
    spinner.finish_and_clear();
    let names = HashMap::new();
    write_file(&args.out, |w| {
        if xlsx {
            comparison.write_xlsx(&names, w)?;
        } else {
            comparison.write_csv(&names, w)?;
        }
        Ok(())
    })?;
    if !global.quiet {
        eprintln!(
            "compared {:?} with {:?} over {} claims of {} in {} rows written to {}",
            draft.name,
            in_force.name,
            inputs.claims.len(),
            args.year,
            comparison.rows.len(),
            args.out.display()
        );
    }
    Ok(())
}
