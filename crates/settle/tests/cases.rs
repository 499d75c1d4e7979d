//! Settlement cases as data: each directory under `tests/cases/` holds a policy,
//! persons and claims as files (`policy.toml`, `persons.csv`, `claims.csv`), the
//! settlements expected to the fen (`expected.csv`, worked out by hand in the
//! case's `README.md`, whose first line says what the case is about).
//!
//! Each case is read with the readers `safetynet settle` uses in file mode
//! (`ingest::settlement_files`), settled, and written by the same writer; the
//! file must equal `expected.csv` line by line. With `UPDATE_EXPECT=1` the
//! expected files are rewritten instead, for review in the diff:
//!
//! ```text
//! UPDATE_EXPECT=1 cargo test -p settle --test cases
//! ```
//!
//! `every_mode_and_variant_is_exercised` fails when some part of the policy model
//! (a mode, a base, a bound, a filter, a deductible, a reason an entry is passed
//! over, a status, a kind, a level, ...) is not used by any case. The features are
//! read off the engine's own types by exhaustive matches, so a new variant of
//! `Mode`, `Base` or `Bound`, or a new field of a tier entry, does not compile here
//! until it is given a feature, and a new feature fails the test until a case
//! exercises it.

use chrono::Datelike;
use domain::{ClaimKind, FacilityLevel, Fen, PovertyStatus};
use ingest::settlement_files as files;
use settle::{Accumulators, Base, Bound, CapLevel, Mode, PerLevel, Policy, TierEntry, TierStep, When};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

/// Every case directory, in name order.
fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/cases exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 11, "expected the worked example and at least ten cases, found {}", dirs.len());
    dirs
}

fn name(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// One case read, settled and written as `safetynet settle --out` would.
struct Settled {
    policy: Policy,
    persons: files::Persons,
    claims: files::Claims,
    order: Vec<u32>,
    output: String,
}

fn settle_case(dir: &Path) -> Settled {
    let case = name(dir);
    let policy = files::read_policy(&dir.join("policy.toml")).unwrap_or_else(|e| panic!("{case}: {e}"));
    let (persons, claims, order) = files::read_settlement_inputs(&dir.join("persons.csv"), &dir.join("claims.csv"))
        .unwrap_or_else(|e| {
            let rows: Vec<String> = e.row_errors().iter().map(|r| r.labelled().to_string()).collect();
            panic!("{case}: {e}\n{}", rows.join("\n"))
        });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("settled.csv");
    files::write_settlements(&out, &policy, &persons, &claims, &order, &mut |_, _| {})
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let output = std::fs::read_to_string(&out).unwrap();
    Settled { policy, persons, claims, order, output }
}

/// The lines that differ, as `line N: expected ... / actual ...`.
fn diff(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut out = String::new();
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i).copied(), a.get(i).copied());
        if x != y {
            out.push_str(&format!(
                "  line {}:\n    expected: {}\n    actual:   {}\n",
                i + 1,
                x.unwrap_or("(no line)"),
                y.unwrap_or("(no line)")
            ));
        }
    }
    out
}

#[test]
fn every_case_settles_as_expected() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| !v.is_empty() && v != "0");
    let mut failures = Vec::new();
    for dir in cases() {
        let settled = settle_case(&dir);
        let path = dir.join("expected.csv");
        if update {
            std::fs::write(&path, &settled.output).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if expected != settled.output {
            let d = diff(&expected, &settled.output);
            let d = if d.is_empty() { "  (the files differ in line endings only)\n".to_string() } else { d };
            failures.push(format!("{}:\n{d}", name(&dir)));
        }
    }
    assert!(
        failures.is_empty(),
        "settlements differ from expected.csv (rerun with UPDATE_EXPECT=1 to rewrite them, then review the diff):\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_case_says_what_it_is_about() {
    for dir in cases() {
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
        let first = readme.lines().next().unwrap_or("").trim();
        assert!(first.len() > 20, "{}: README.md must open with a line describing the case", name(&dir));
        let policy = std::fs::read_to_string(dir.join("policy.toml")).unwrap();
        // The worked example's policy is the documented file itself, and the
        // shipped policies' cases use the shipped files; the others open with a
        // comment saying what they exercise.
        if name(&dir) != "01_worked_example" && !SHIPPED.iter().any(|(case, _)| *case == name(&dir)) {
            assert!(policy.starts_with("# Exercises: "), "{}: policy.toml must open with `# Exercises: `", name(&dir));
        }
    }
}

#[test]
fn the_worked_example_case_uses_the_documented_policy() {
    let case = std::fs::read_to_string(cases_dir().join("01_worked_example/policy.toml")).unwrap();
    let data = include_str!("data/demo_county_2024.toml");
    assert_eq!(case, data, "cases/01_worked_example/policy.toml must equal tests/data/demo_county_2024.toml");
}

/// The policies shipped under `examples/policies/` and the case that settles each
/// one's worked bills: the case's `policy.toml` is a copy of the shipped file.
const SHIPPED: &[(&str, &str)] = &[
    ("12_anhui_351_180", "anhui-351-180.toml"),
    ("13_national_critical_illness", "national-2019-critical-illness.toml"),
];

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies")
}

#[test]
fn the_shipped_policies_are_the_cases_policies() {
    let mut files: Vec<String> = std::fs::read_dir(shipped_dir())
        .expect("examples/policies exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".toml"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = SHIPPED.iter().map(|(_, f)| f.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "every file under examples/policies/ needs a case in SHIPPED, and only those");
    for (case, file) in SHIPPED {
        let shipped = std::fs::read_to_string(shipped_dir().join(file)).unwrap();
        let copy = std::fs::read_to_string(cases_dir().join(case).join("policy.toml")).unwrap();
        assert_eq!(copy, shipped, "cases/{case}/policy.toml must equal examples/policies/{file}");
        let policy = Policy::parse(&shipped).unwrap_or_else(|e| panic!("examples/policies/{file}: {e}"));
        assert_eq!(policy.year, Some(2019), "{file}: the rules' year");
    }
}

// ------------------------------------------------------------------ coverage

/// Declares the features and their complete list at once.
macro_rules! features {
    ($($(#[doc = $doc:literal])+ $v:ident,)+) => {
        /// A part of the policy model a case can exercise.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        enum Feature {
            $($(#[doc = $doc])+ $v,)+
            /// A claim of a person of this status.
            Status(PovertyStatus),
            /// A claim of this kind.
            Kind(ClaimKind),
            /// A claim at this facility level.
            Level(FacilityLevel),
        }

        impl Feature {
            /// Every feature.
            fn all() -> Vec<Feature> {
                let mut v = vec![$(Feature::$v),+];
                v.extend(PovertyStatus::ALL.iter().map(|s| Feature::Status(*s)));
                v.extend(ClaimKind::ALL.iter().map(|k| Feature::Kind(*k)));
                v.extend(FacilityLevel::ALL.iter().map(|l| Feature::Level(*l)));
                v
            }
        }
    };
}

features! {
    /// Mode rate, one rate for every level.
    RateFlat,
    /// Mode rate given per level.
    RateByLevel,
    /// A rate times the counted part ends in exactly half a fen (rounded up).
    RateRoundsHalfUp,
    /// Mode bands whose last band has no `up_to`.
    BandsOpenEnded,
    /// Mode bands whose last band has an `up_to`.
    BandsClosed,
    /// One claim's base falls in two bands or more.
    BandsSeveralInOneClaim,
    /// A claim's base goes above the last `up_to` of closed bands.
    BandsAboveLastBand,
    /// The exact banded amount of a claim is not whole fen: the year's running
    /// total is what is rounded.
    BandsRoundedOnTheYear,
    /// Mode oop_cap, one cap for every level.
    OopCapFlat,
    /// Mode oop_cap given per level.
    OopCapByLevel,
    /// An oop_cap tier pays because the year's unpaid total passed the cap.
    OopCapReached,
    /// An oop_cap entry with `oop_cap_level = "highest"`.
    OopCapHighestLevel,
    /// Such an entry held a claim to a higher level's cap met earlier in the year,
    /// not its own level's.
    OopCapHigherLevelKept,
    /// Mode oop_ratio_cap.
    OopRatioCap,
    /// `base = "eligible"` (the default).
    BaseEligible,
    /// `base = "all"`.
    BaseAll,
    /// A payment larger than what was left of E: paid from N too.
    PaidFromIneligible,
    /// A claim deductible given once for every level, taken off.
    ClaimDeductibleFlat,
    /// A claim deductible given per level, taken off.
    ClaimDeductibleByLevel,
    /// A claim deductible as large as the claim's base: x = 0.
    ClaimDeductibleAboveBase,
    /// A yearly deductible not yet reached after the claim.
    AnnualDeductibleNotReached,
    /// A yearly deductible reached inside a claim.
    AnnualDeductibleCrossed,
    /// A yearly deductible already passed before the claim.
    AnnualDeductiblePassed,
    /// A payment no cap bound.
    BoundNone,
    /// A payment bound by `claim_cap`.
    BoundClaimCap,
    /// A payment bound by `annual_cap`.
    BoundAnnualCap,
    /// The yearly cap spent: the entry pays 0.
    AnnualCapSpent,
    /// A variant pays on top of what another variant of its name paid in the year.
    VariantsSharePaid,
    /// The entry used has no `when`.
    WhenNone,
    /// The entry used filters by status.
    WhenStatuses,
    /// The entry used filters by kind.
    WhenKinds,
    /// The entry used filters by level.
    WhenLevels,
    /// The entry used requires enrolment, and the person is enrolled.
    RequiresEnrolment,
    /// An entry passed over because the person is not enrolled for the year.
    SkippedByEnrolment,
    /// The entry used filters by referral (`when.referred`).
    WhenReferred,
    /// An entry passed over for the claim's referral (its `when.referred`).
    SkippedByReferral,

    /// An entry passed over for the claim's status.
    SkippedByStatus,
    /// An entry passed over for the claim's kind.
    SkippedByKind,
    /// An entry passed over for the claim's level (its `when.levels`).
    SkippedByLevel,
    /// An entry passed over for an empty list in its filter.
    SkippedByEmptyList,
    /// An entry passed over because a per-level table lacks the claim's level.
    SkippedByMissingLevel,
    /// The entry used is not the first of its name.
    LaterVariant,
    /// No entry of a name applies: it pays 0.
    NoEntry,
    /// A person's accumulators start again in a new policy year.
    YearReset,
    /// Claims of one person discharged on one day, settled by claim id.
    SameDayById,
    /// The rows of the claims file are not in settlement order.
    InputOrderIgnored,
}

/// Why an entry does not apply to a claim (none when it does).
fn passed_over(e: &TierEntry, status: PovertyStatus, input: &settle::ClaimInput) -> Vec<Feature> {
    let (kind, level) = (input.kind, input.level);
    let mut why = Vec::new();
    let When { statuses, kinds, levels, referred } = &e.when;
    if referred.is_some_and(|r| r != input.referred) {
        why.push(Feature::SkippedByReferral);
    }
    if e.requires_enrolment && !input.enrolled {
        why.push(Feature::SkippedByEnrolment);
    }
    let empty = statuses.as_ref().is_some_and(|v| v.is_empty())
        || kinds.as_ref().is_some_and(|v| v.is_empty())
        || levels.as_ref().is_some_and(|v| v.is_empty());
    if empty {
        why.push(Feature::SkippedByEmptyList);
    }
    if statuses.as_ref().is_some_and(|v| !v.is_empty() && !v.contains(&status)) {
        why.push(Feature::SkippedByStatus);
    }
    if kinds.as_ref().is_some_and(|v| !v.is_empty() && !v.contains(&kind)) {
        why.push(Feature::SkippedByKind);
    }
    if levels.as_ref().is_some_and(|v| !v.is_empty() && !v.contains(&level)) {
        why.push(Feature::SkippedByLevel);
    }
    let lacks = |t: bool| if t { vec![Feature::SkippedByMissingLevel] } else { vec![] };
    why.extend(lacks(e.claim_deductible.get(level).is_none()));
    why.extend(lacks(match &e.mode {
        Mode::Rate(r) => r.get(level).is_none(),
        Mode::OopCap(c) => c.get(level).is_none(),
        Mode::Bands(_) | Mode::OopRatioCap(_) => false,
    }));
    why
}

/// `table` when the value was given per level, else `flat`.
fn by_level<T>(t: &PerLevel<T>, flat: Feature, table: Feature) -> Feature {
    if t.table {
        table
    } else {
        flat
    }
}

/// What one tier step of a claim exercised. `e_before` is what was left of the
/// eligible part when the tier came; `payers` the entries of this name that have
/// paid the person this year.
fn step_features(
    policy: &Policy,
    step: &TierStep,
    e_before: Fen,
    payers: &BTreeSet<usize>,
    claim: (PovertyStatus, &settle::ClaimInput),
) -> Vec<Feature> {
    let (status, input) = claim;
    let level = input.level;
    let mut f = Vec::new();
    let chosen = step.entry;
    for (k, e) in policy.entries.iter().enumerate() {
        if e.name_index == step.name && chosen.is_none_or(|c| k < c) {
            let why = passed_over(e, status, input);
            assert!(!why.is_empty(), "entry #{} was passed over for no reason", k + 1);
            f.extend(why);
        }
    }
    let Some(ei) = chosen else {
        f.push(Feature::NoEntry);
        return f;
    };
    if policy.entries[..ei].iter().any(|e| e.name_index == step.name) {
        f.push(Feature::LaterVariant);
    }
    // Every field, so that a new one does not compile until it is considered here.
    let TierEntry {
        name: _,
        name_index: _,
        when,
        base,
        mode,
        claim_deductible,
        annual_deductible,
        claim_cap: _,
        annual_cap: _,
        oop_cap_level,
        requires_enrolment,
    } = &policy.entries[ei];
    let When { statuses, kinds, levels, referred } = when;
    if statuses.is_none() && kinds.is_none() && levels.is_none() && referred.is_none() {
        f.push(Feature::WhenNone);
    }
    if referred.is_some() {
        f.push(Feature::WhenReferred);
    }
    if *requires_enrolment {
        f.push(Feature::RequiresEnrolment);
    }
    if statuses.is_some() {
        f.push(Feature::WhenStatuses);
    }
    if kinds.is_some() {
        f.push(Feature::WhenKinds);
    }
    if levels.is_some() {
        f.push(Feature::WhenLevels);
    }
    f.push(match base {
        Base::Eligible => Feature::BaseEligible,
        Base::All => Feature::BaseAll,
    });
    if step.pay > e_before {
        f.push(Feature::PaidFromIneligible);
    }
    let d = annual_deductible.0;
    let (s0, s1) = (step.before.base.0, step.after.base.0);
    let deductibles = |f: &mut Vec<Feature>| {
        if step.claim_deductible.0 > 0 {
            f.push(by_level(claim_deductible, Feature::ClaimDeductibleFlat, Feature::ClaimDeductibleByLevel));
            if step.x.0 == 0 {
                f.push(Feature::ClaimDeductibleAboveBase);
            }
        }
        if d > 0 && step.x.0 > 0 {
            f.push(if s1 <= d {
                Feature::AnnualDeductibleNotReached
            } else if s0 < d {
                Feature::AnnualDeductibleCrossed
            } else {
                Feature::AnnualDeductiblePassed
            });
        }
    };
    match mode {
        Mode::Rate(rates) => {
            f.push(by_level(rates, Feature::RateFlat, Feature::RateByLevel));
            deductibles(&mut f);
            let rate = rates.get(level).expect("the entry applies at the level");
            if (rate.0 as i128 * step.counted.0 as i128).rem_euclid(10_000) == 5_000 {
                f.push(Feature::RateRoundsHalfUp);
            }
        }
        Mode::Bands(bands) => {
            let last = bands.last().expect("bands are not empty");
            f.push(if last.up_to.is_none() { Feature::BandsOpenEnded } else { Feature::BandsClosed });
            deductibles(&mut f);
            if step.bands.len() >= 2 {
                f.push(Feature::BandsSeveralInOneClaim);
            }
            if last.up_to.is_some_and(|u| s1 > d + u.0) {
                f.push(Feature::BandsAboveLastBand);
            }
            if (settle::bands_f(bands, d, s1) - settle::bands_f(bands, d, s0)) % 10_000 != 0 {
                f.push(Feature::BandsRoundedOnTheYear);
            }
        }
        Mode::OopCap(caps) => {
            f.push(by_level(caps, Feature::OopCapFlat, Feature::OopCapByLevel));
            if step.raw.0 > 0 {
                f.push(Feature::OopCapReached);
            }
            if *oop_cap_level == CapLevel::Highest {
                f.push(Feature::OopCapHighestLevel);
                if caps.get(level).is_some_and(|own| own < step.after.base) {
                    f.push(Feature::OopCapHigherLevelKept);
                }
            }
        }
        Mode::OopRatioCap(_) => f.push(Feature::OopRatioCap),
    }
    f.push(match step.bound {
        Bound::None => Feature::BoundNone,
        Bound::ClaimCap => Feature::BoundClaimCap,
        Bound::AnnualCap => Feature::BoundAnnualCap,
    });
    if step.bound == Bound::AnnualCap && step.pay.0 == 0 {
        f.push(Feature::AnnualCapSpent);
    }
    if step.pay.0 > 0 && payers.iter().any(|&p| p != ei) {
        f.push(Feature::VariantsSharePaid);
    }
    f
}

/// What a settled case exercised, claim by claim in settlement order, through
/// the explanation (which reports the same payments as the settlement: checked).
fn case_features(s: &Settled) -> HashSet<Feature> {
    let mut seen = HashSet::new();
    if s.order.iter().enumerate().any(|(k, &i)| k != i as usize) {
        seen.insert(Feature::InputOrderIgnored);
    }
    let mut accs: HashMap<(u32, i32), Accumulators> = HashMap::new();
    let mut payers: HashMap<(u32, i32, usize), BTreeSet<usize>> = HashMap::new();
    let mut years: HashMap<u32, i32> = HashMap::new();
    let mut previous: Option<usize> = None;
    for &i in &s.order {
        let c = &s.claims.rows[i as usize];
        let (person, year) = (c.person, c.discharged.year());
        let status = s.persons.statuses[person as usize];
        let input = c.input;
        seen.insert(Feature::Status(status));
        seen.insert(Feature::Kind(input.kind));
        seen.insert(Feature::Level(input.level));
        if years.insert(person, year).is_some_and(|y| y < year) {
            seen.insert(Feature::YearReset);
        }
        if let Some(p) = previous {
            let q = &s.claims.rows[p];
            if q.person == person && q.discharged == c.discharged {
                seen.insert(Feature::SameDayById);
            }
        }
        previous = Some(i as usize);
        let acc = accs.entry((person, year)).or_insert_with(|| Accumulators::new(&s.policy));
        let explained = settle::explain(&s.policy, &input, status, acc);
        let settled = settle::settle_claim(&s.policy, &input, status, acc);
        assert_eq!(explained.settlement, settled, "claim {}: the explanation differs", s.claims.id(i as usize));
        let mut e = input.eligible_cost;
        for step in &explained.steps {
            let paid = payers.entry((person, year, step.name)).or_default();
            seen.extend(step_features(&s.policy, step, e, paid, (status, &input)));
            if let (Some(ei), true) = (step.entry, step.pay.0 > 0) {
                paid.insert(ei);
            }
            e = Fen(e.0 - step.pay.0.min(e.0));
        }
    }
    seen
}

#[test]
fn every_mode_and_variant_is_exercised() {
    let mut by_case: Vec<(String, HashSet<Feature>)> = Vec::new();
    for dir in cases() {
        by_case.push((name(&dir), case_features(&settle_case(&dir))));
    }
    let missing: Vec<Feature> =
        Feature::all().into_iter().filter(|f| !by_case.iter().any(|(_, seen)| seen.contains(f))).collect();
    assert!(
        missing.is_empty(),
        "no case in tests/cases exercises {missing:?}; add a case (or a claim to one) that does, with its arithmetic in the README"
    );
}
