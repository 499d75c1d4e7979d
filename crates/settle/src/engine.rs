//! The settlement arithmetic of docs/settlement.md ("Tiers"), in exact integers.
//!
//! One function, [`settle_into`], settles one claim against a person's accumulators
//! for the policy year; the real-time path ([`settle_claim`]), the batch path
//! ([`settle_batch`]), the re-settlement after a voided claim
//! ([`resettle_person_year`]) and the explanation ([`crate::explain()`]) all call it,
//! so they cannot disagree.

use crate::explain::{Bound, TierStep};
use crate::policy::{Base, CapLevel, Mode, Policy};
use chrono::{Datelike, NaiveDate};
use domain::cache::{prefetch, prefetch_slice};
use domain::money::round_scaled;
use domain::{Fen, PovertyStatus};
use serde::Serialize;

pub use domain::settlement::{ClaimInput, TierAccumulator};

/// A person's accumulators for one policy year, one per tier name (in
/// [`Policy::names`] order). They start at zero each year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Accumulators {
    pub tiers: Vec<TierAccumulator>,
}

impl Accumulators {
    pub fn new(policy: &Policy) -> Self {
        Accumulators { tiers: vec![TierAccumulator::default(); policy.names.len()] }
    }
}

/// The result of settling one claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settlement {
    /// Payment of each tier name, in [`Policy::names`] order.
    pub payments: Vec<Fen>,
    pub out_of_pocket: Fen,
}

/// Settles one claim in real time, updating the person's accumulators for the
/// claim's policy year. Claims of a person-year must be given in `(discharged,
/// claim_id)` order for the result to match the batch.
pub fn settle_claim(policy: &Policy, claim: &ClaimInput, status: PovertyStatus, acc: &mut Accumulators) -> Settlement {
    if acc.tiers.len() != policy.names.len() {
        acc.tiers.resize(policy.names.len(), TierAccumulator::default());
    }
    let mut payments = vec![Fen::ZERO; policy.names.len()];
    let out_of_pocket = settle_into(policy, claim, status, &mut acc.tiers, &mut payments, None);
    Settlement { payments, out_of_pocket }
}

/// The one settlement kernel. Writes each tier name's payment into `payments`,
/// updates `acc` (one per tier name) and returns the out-of-pocket; when `steps`
/// is given, records what each tier did for an explanation.
pub fn settle_into(
    policy: &Policy,
    claim: &ClaimInput,
    status: PovertyStatus,
    acc: &mut [TierAccumulator],
    payments: &mut [Fen],
    mut steps: Option<&mut Vec<TierStep>>,
) -> Fen {
    let level = claim.level;
    let mut e = claim.eligible_cost.0;
    let mut n = claim.total_cost.0 - claim.eligible_cost.0;
    for (name, (a, pay_out)) in acc.iter_mut().zip(payments.iter_mut()).enumerate() {
        let Some(ei) = policy.entry_for_claim(name, status, claim) else {
            *pay_out = Fen::ZERO;
            if let Some(s) = steps.as_deref_mut() {
                s.push(TierStep::unmatched(name, *a));
            }
            continue;
        };
        let entry = &policy.entries[ei];
        let before = *a;
        let b = match entry.base {
            Base::Eligible => e,
            Base::All => e + n,
        };
        let mut deductible = 0;
        let mut x = 0;
        let mut counted = 0;
        let raw = match &entry.mode {
            Mode::Rate(rates) => {
                let rate = rates.get(level).expect("lookup only yields entries with a rate at the level");
                deductible = entry.claim_deductible.get(level).map_or(0, |f| f.0);
                x = (b - deductible).max(0);
                let d = entry.annual_deductible.0;
                let s = a.base.0;
                counted = (s + x - d).max(0) - (s - d).max(0);
                a.base.0 = s + x;
                rate.apply(Fen(counted)).0
            }
            Mode::Bands(bands) => {
                deductible = entry.claim_deductible.get(level).map_or(0, |f| f.0);
                x = (b - deductible).max(0);
                let d = entry.annual_deductible.0;
                let s0 = a.base.0;
                let s1 = s0 + x;
                a.base.0 = s1;
                counted = (s1 - d).max(0) - (s0 - d).max(0);
                round_scaled(bands_f(bands, d, s1)) - round_scaled(bands_f(bands, d, s0))
            }
            Mode::OopCap(caps) => {
                let own = caps.get(level).expect("lookup only yields entries with a cap at the level").0;
                let cap = match entry.oop_cap_level {
                    CapLevel::Claim => own,
                    // `S` holds the largest cap met this year (see `CapLevel::Highest`).
                    CapLevel::Highest => {
                        a.base.0 = a.base.0.max(own);
                        a.base.0
                    }
                };
                b.min(a.unpaid.0 + b - cap).max(0)
            }
            Mode::OopRatioCap(q) => b.min(e + n - q.apply(claim.total_cost).0).max(0),
        };
        let mut pay = raw.min(b);
        let mut bound = Bound::None;
        if let Some(cc) = entry.claim_cap {
            if cc.0 < pay {
                pay = cc.0;
                bound = Bound::ClaimCap;
            }
        }
        if let Some(ac) = entry.annual_cap {
            let room = ac.0 - a.paid.0;
            if room < pay {
                pay = room;
                bound = Bound::AnnualCap;
            }
        }
        let pay = pay.max(0);
        if let Mode::OopCap(_) = entry.mode {
            a.unpaid.0 += b - pay;
        }
        a.paid.0 += pay;
        let from_e = pay.min(e);
        e -= from_e;
        n -= pay - from_e;
        *pay_out = Fen(pay);
        if let Some(s) = steps.as_deref_mut() {
            s.push(TierStep {
                name,
                entry: Some(ei),
                base: Fen(b),
                claim_deductible: Fen(deductible.min(b).max(0)),
                x: Fen(x),
                counted: Fen(counted),
                bands: match &entry.mode {
                    Mode::Bands(bands) => band_uses(bands, entry.annual_deductible.0, before.base.0, a.base.0),
                    _ => Vec::new(),
                },
                raw: Fen(raw),
                bound,
                pay: Fen(pay),
                before,
                after: *a,
            });
        }
    }
    Fen(e + n)
}

/// `F(S)` of docs/settlement.md in ten-thousandths of a fen: the sum over bands of
/// the rate times the part of `[D + lo, D + hi]` inside `[0, S]`. Exact, so that
/// rounding the cumulative value makes a year's total independent of how its
/// costs are split across claims.
pub fn bands_f(bands: &[crate::policy::Band], d: i64, s: i64) -> i128 {
    let mut lo = 0i64;
    let mut f: i128 = 0;
    for band in bands {
        let start = d + lo;
        if s <= start {
            break;
        }
        let end = band.up_to.map_or(s, |u| (d + u.0).min(s));
        f += band.rate.0 as i128 * (end - start) as i128;
        match band.up_to {
            Some(u) => lo = u.0,
            None => break,
        }
    }
    f
}

/// How much of a claim's `[S0, S1]` fell in each band (above the deductible).
fn band_uses(bands: &[crate::policy::Band], d: i64, s0: i64, s1: i64) -> Vec<crate::explain::BandUse> {
    let mut out = Vec::new();
    let mut lo = 0i64;
    for (k, band) in bands.iter().enumerate() {
        let start = d + lo;
        let end = band.up_to.map_or(i64::MAX, |u| d + u.0);
        let amount = (s1.min(end) - s0.max(start)).max(0);
        if amount > 0 {
            out.push(crate::explain::BandUse {
                band: k,
                from: Fen(lo),
                to: band.up_to,
                amount: Fen(amount),
                rate: band.rate,
            });
        }
        match band.up_to {
            Some(u) => lo = u.0,
            None => break,
        }
    }
    out
}

/// A claim in the compact form the batch keeps in memory: ~32 bytes, so five
/// million claims fit in well under a gigabyte. The claim's identifier lives with
/// the caller (an arena of strings), reached by the claim's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchClaim {
    /// Index of the person in the caller's person table (and in `statuses`).
    pub person: u32,
    pub discharged: NaiveDate,
    pub input: ClaimInput,
}

/// The settlement order of docs/settlement.md, "Order": claim indices sorted by
/// `(discharged, claim_id)`. Sorting indices keeps the claims where they are.
///
/// Comparing claim identifiers through the caller's arena, millions of times, is
/// what makes a naive sort slow; instead the claims are bucketed by day and
/// each gets one packed key, sorted as an integer (see [`settlement_order_on`]).
pub fn settlement_order<'a>(claims: &[BatchClaim], claim_id: impl Fn(usize) -> &'a str + Sync) -> Vec<u32> {
    settlement_order_at(claims, claim_id, |_| "")
}

/// [`settlement_order`] for claims keyed by facility and ID: `(discharged,
/// claim_id, facility_id)`, the facility breaking a tie between two facilities'
/// claims of one ID discharged on one day. Claims whose IDs differ come in the
/// order [`settlement_order`] gives them.
pub fn settlement_order_at<'a, 'b>(
    claims: &[BatchClaim],
    claim_id: impl Fn(usize) -> &'a str + Sync,
    facility_id: impl Fn(usize) -> &'b str + Sync,
) -> Vec<u32> {
    let threads = if claims.len() < 1 << 16 { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()) };
    settlement_order_on(claims, claim_id, facility_id, threads)
}

/// [`settlement_order_at`] on up to `threads` threads (the result does not
/// depend on their number).
///
/// The claims are first counted by discharge day and placed in one bucket a
/// day (a counting sort: two passes over the claims, no comparisons); each
/// day's bucket is then sorted on its own, small enough to stay in the cache,
/// and the days are shared among the threads by their claims. Within a day a
/// claim's key packs the eight bytes of its identifier after the prefix all
/// identifiers share, and its index; runs that tie on those eight bytes are
/// put in order by their full identifiers (and facilities). Where the days
/// span far more than there are claims, one bucket holds them all, the day
/// then leading the key.
pub fn settlement_order_on<'a, 'b>(
    claims: &[BatchClaim],
    claim_id: impl Fn(usize) -> &'a str + Sync,
    facility_id: impl Fn(usize) -> &'b str + Sync,
    threads: usize,
) -> Vec<u32> {
    let n = claims.len();
    if n == 0 {
        return Vec::new();
    }
    let first = claim_id(0).as_bytes();
    let mut shared = first.len();
    let (mut earliest, mut latest) = (claims[0].discharged, claims[0].discharged);
    for (i, c) in claims.iter().enumerate() {
        let id = claim_id(i).as_bytes();
        shared = shared.min(id.len());
        shared = first[..shared].iter().zip(id).take_while(|(a, b)| a == b).count();
        earliest = earliest.min(c.discharged);
        latest = latest.max(c.discharged);
    }
    let prefix8 = |id: &[u8]| -> u64 {
        let rest = id.get(shared..).unwrap_or(&[]);
        let mut b = [0u8; 8];
        let k = rest.len().min(8);
        b[..k].copy_from_slice(&rest[..k]);
        u64::from_be_bytes(b)
    };
    let span = (latest - earliest).num_days() as usize + 1;
    let by_day = span <= n.max(1 << 16);
    let day = |c: &BatchClaim| (c.discharged - earliest).num_days() as usize;
    // starts[d]: where day d's bucket begins (one bucket when not by day).
    let buckets = if by_day { span } else { 1 };
    let mut starts = vec![0usize; buckets + 1];
    if by_day {
        for c in claims {
            starts[day(c) + 1] += 1;
        }
        for d in 0..buckets {
            starts[d + 1] += starts[d];
        }
    } else {
        starts[1] = n;
    }
    let mut keys = vec![0u128; n];
    let mut next = starts.clone();
    for (i, c) in claims.iter().enumerate() {
        let d = day(c);
        let low = (u128::from(prefix8(claim_id(i).as_bytes())) << 32) | i as u128;
        let (b, key) = if by_day { (d, low) } else { (0, (d as u128) << 96 | low) };
        keys[next[b]] = key;
        next[b] += 1;
    }
    drop(next);
    let mut order = vec![0u32; n];
    // The days shared among the threads in runs of about n / threads claims.
    let threads = threads.clamp(1, buckets);
    let mut cuts = vec![0usize];
    for t in 1..threads {
        let want = n * t / threads;
        let d = starts.partition_point(|&s| s < want).min(buckets);
        if d > *cuts.last().expect("cuts start with 0") && d < buckets {
            cuts.push(d);
        }
    }
    cuts.push(buckets);
    let sort_days = |days: &[usize], keys: &mut [u128], order: &mut [u32]| {
        let base = starts[days[0]];
        for w in days.windows(2) {
            let (from, to) = (starts[w[0]] - base, starts[w[1]] - base);
            sort_bucket(&mut keys[from..to], &mut order[from..to], &claim_id, &facility_id);
        }
    };
    let bounds: Vec<Vec<usize>> = cuts.windows(2).map(|w| (w[0]..=w[1]).collect()).collect();
    if bounds.len() == 1 {
        sort_days(&bounds[0], &mut keys, &mut order);
    } else {
        std::thread::scope(|scope| {
            let (mut keys, mut order) = (&mut keys[..], &mut order[..]);
            for days in &bounds {
                let len = starts[*days.last().expect("a run has two ends")] - starts[days[0]];
                let (k, rest_k) = std::mem::take(&mut keys).split_at_mut(len);
                let (o, rest_o) = std::mem::take(&mut order).split_at_mut(len);
                (keys, order) = (rest_k, rest_o);
                let sort_days = &sort_days;
                scope.spawn(move || sort_days(days, k, o));
            }
        });
    }
    order
}

/// Sorts one bucket's packed keys and writes their claims' indices into
/// `order`; runs that tie on the key above the index are ordered by their
/// full identifiers, then facilities.
fn sort_bucket<'a, 'b>(
    keys: &mut [u128],
    order: &mut [u32],
    claim_id: &impl Fn(usize) -> &'a str,
    facility_id: &impl Fn(usize) -> &'b str,
) {
    keys.sort_unstable();
    for (o, k) in order.iter_mut().zip(keys.iter()) {
        *o = *k as u32;
    }
    let n = keys.len();
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && keys[end] >> 32 == keys[start] >> 32 {
            end += 1;
        }
        if end - start > 1 {
            order[start..end].sort_by(|a, b| {
                let (a, b) = (*a as usize, *b as usize);
                claim_id(a).cmp(claim_id(b)).then_with(|| facility_id(a).cmp(facility_id(b)))
            });
        }
        start = end;
    }
}

/// Settles a batch of claims of many persons: sorts them into settlement order
/// and settles each against its person's accumulators for its policy year, which
/// is by definition what the real-time path gives claim by claim. `statuses[p]`
/// is person `p`'s status. `sink` receives, in settlement order, each claim's
/// index, its tier payments and its out-of-pocket.
pub fn settle_batch<'a>(
    policy: &Policy,
    claims: &[BatchClaim],
    claim_id: impl Fn(usize) -> &'a str + Sync,
    statuses: &[PovertyStatus],
    mut sink: impl FnMut(usize, &[Fen], Fen),
) {
    let order = settlement_order(claims, claim_id);
    settle_in_order(policy, claims, &order, statuses, |i, p, o| {
        sink(i, p, o);
        true
    });
}

/// Settles claims in a given settlement order (see [`settlement_order`]); `sink`
/// returns `false` to stop early (as `--explain` does once its claim is reached).
pub fn settle_in_order(
    policy: &Policy,
    claims: &[BatchClaim],
    order: &[u32],
    statuses: &[PovertyStatus],
    mut sink: impl FnMut(usize, &[Fen], Fen) -> bool,
) {
    let names = policy.names.len();
    // Claims come in date order, so all claims of a year precede the next year's:
    // one accumulator table for all persons, cleared when the year turns.
    let mut acc = vec![TierAccumulator::default(); statuses.len() * names];
    let mut payments = vec![Fen::ZERO; names];
    let mut year = None;
    // Claims and persons are reached in date order, so nearly every one is a
    // cache miss; each is asked for some claims ahead (the claim first, its
    // person's accumulators once the claim has come), so that the misses
    // overlap instead of following one another.
    const AHEAD: usize = 8;
    for (k, &i) in order.iter().enumerate() {
        if let Some(&j) = order.get(k + 2 * AHEAD) {
            prefetch(&claims[j as usize]);
        }
        if let Some(&j) = order.get(k + AHEAD) {
            let p = claims[j as usize].person as usize;
            if let Some(a) = acc.get(p * names..(p + 1) * names) {
                prefetch_slice(a);
            }
            if let Some(s) = statuses.get(p) {
                prefetch(s);
            }
        }
        let c = &claims[i as usize];
        let y = c.discharged.year();
        if year != Some(y) {
            if year.is_some() {
                acc.fill(TierAccumulator::default());
            }
            year = Some(y);
        }
        let p = c.person as usize;
        let oop = settle_into(policy, &c.input, statuses[p], &mut acc[p * names..(p + 1) * names], &mut payments, None);
        if !sink(i as usize, &payments, oop) {
            return;
        }
    }
}

/// One claim of a person, for settling or re-settling that person's year. The
/// claims handed to [`settle_person_year`] and [`resettle_person_year`] are
/// named by `claim_id` alone, so they must come from one facility's namespace
/// (IDs unique among them); the store keys a person's claims by facility and ID
/// and orders them by `(discharged, claim_id, facility_id)` itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonClaim {
    pub claim_id: String,
    pub discharged: NaiveDate,
    /// The person's status when the claim was settled.
    pub status: PovertyStatus,
    pub input: ClaimInput,
}

/// Settles all claims of one person in one policy year from zero accumulators,
/// in settlement order. Returns `(claim_id, settlement)` in that order.
pub fn settle_person_year(policy: &Policy, claims: &[PersonClaim]) -> Vec<(String, Settlement)> {
    let mut sorted: Vec<&PersonClaim> = claims.iter().collect();
    sorted.sort_by(|a, b| a.discharged.cmp(&b.discharged).then_with(|| a.claim_id.cmp(&b.claim_id)));
    let mut acc = Accumulators::new(policy);
    sorted.into_iter().map(|c| (c.claim_id.clone(), settle_claim(policy, &c.input, c.status, &mut acc))).collect()
}

/// How one claim's settlement changed when its person's year was re-settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimDifference {
    pub claim_id: String,
    /// New minus old payment, per tier name.
    pub payments: Vec<Fen>,
    /// New minus old out-of-pocket: positive means the patient owes more.
    pub out_of_pocket: Fen,
}

/// The outcome of re-settling a person's year after a claim was voided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resettlement {
    /// The remaining claims' new settlements, in settlement order.
    pub settlements: Vec<(String, Settlement)>,
    /// The claims whose settlement changed, new minus old; the voided claim itself
    /// appears with the negation of its old settlement (a full refund).
    pub differences: Vec<ClaimDifference>,
}

/// Re-settles a person's policy year after claim `voided` was voided (a refund or
/// a correction): the remaining claims are settled again from zero, and each
/// claim whose fen changed is reported. `previous` holds the settlements as they
/// stood, by claim id.
pub fn resettle_person_year(
    policy: &Policy,
    claims: &[PersonClaim],
    previous: &[(String, Settlement)],
    voided: &str,
) -> Resettlement {
    let remaining: Vec<PersonClaim> = claims.iter().filter(|c| c.claim_id != voided).cloned().collect();
    let settlements = settle_person_year(policy, &remaining);
    let names = policy.names.len();
    let zero = Settlement { payments: vec![Fen::ZERO; names], out_of_pocket: Fen::ZERO };
    let mut differences = Vec::new();
    for (id, old) in previous {
        let new = settlements.iter().find(|(i, _)| i == id).map(|(_, s)| s).unwrap_or(&zero);
        let diff = ClaimDifference {
            claim_id: id.clone(),
            payments: new.payments.iter().zip(&old.payments).map(|(a, b)| *a - *b).collect(),
            out_of_pocket: new.out_of_pocket - old.out_of_pocket,
        };
        if diff.payments.iter().any(|d| d.0 != 0) || diff.out_of_pocket.0 != 0 {
            differences.push(diff);
        }
    }
    Resettlement { settlements, differences }
}
