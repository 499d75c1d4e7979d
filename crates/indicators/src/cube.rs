//! The indicator cube: additive facts per (region, month), kept for every village
//! and every region above it, so that a query reads one precomputed sum per month
//! and a delta of new facts updates only the cells it touches and their ancestors.
//!
//! The cube stores only the columns the indicator definitions use: a column is a
//! base measure under one filter (poor inpatients' `out_of_pocket`, say). A fact
//! is routed once to every column whose filter its slice passes, then added to its
//! village's cell and to the cells of the village's township, county, city and
//! province. Because every column is a plain sum, a region's figure equals the sum
//! of its children's, and a cube built fact by fact equals one built at once.

use crate::definition::{Definitions, Filter, IndicatorDef, Unit};
use crate::measure::{Aggregation, Measure, Slice};
use crate::period::{Month, Period};
use domain::{RegionCode, RegionLevel};
use std::collections::{BTreeMap, HashMap};

/// One additive fact: `value` of `measure` for the slice, in the village and month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fact {
    pub village: RegionCode,
    pub month: Month,
    pub slice: Slice,
    pub measure: Measure,
    /// A count, or money in fen; negative to take back an earlier fact.
    pub value: i64,
}

/// A measure under a filter: what one cube column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Column {
    pub measure: Measure,
    pub filter: Filter,
}

/// An indicator's columns in the cube.
#[derive(Debug, Clone)]
struct Compiled {
    numerator: Vec<u16>,
    denominator: Option<Vec<u16>>,
}

/// The value of one indicator for one region and period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorValue {
    /// A count, or fen.
    pub numerator: i64,
    pub denominator: Option<i64>,
    /// The figure in the indicator's unit (yuan for amounts); `None` when the
    /// denominator is zero.
    pub value: Option<f64>,
}

#[derive(Debug, Clone)]
struct Node {
    code: RegionCode,
    /// Its own index and those of its ancestors, nearest first.
    chain: [u32; 5],
    chain_len: u8,
}

/// Counts of one [`IndicatorCube::apply_delta`] call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeltaStats {
    pub facts: usize,
    /// Additions made to (region, month, column) cells, ancestors included.
    pub additions: usize,
}

/// Facts by region and month for a set of indicator definitions.
#[derive(Debug, Clone)]
pub struct IndicatorCube {
    defs: Definitions,
    columns: Vec<Column>,
    compiled: Vec<Compiled>,
    /// For `measure.index() * Slice::COUNT + slice.index()`, the columns a fact feeds.
    routes: Vec<Vec<u16>>,
    nodes: Vec<Node>,
    index: HashMap<RegionCode, u32>,
    /// Per month, `nodes.len() * columns.len()` sums (shorter where later nodes
    /// have not been written in that month: missing means zero).
    blocks: BTreeMap<Month, Vec<i64>>,
}

impl IndicatorCube {
    /// An empty cube for the definitions.
    pub fn new(defs: &Definitions) -> IndicatorCube {
        let mut columns: Vec<Column> = Vec::new();
        let mut col = |m: Measure, filter: Filter| -> u16 {
            let c = Column { measure: m, filter };
            match columns.iter().position(|x| *x == c) {
                Some(i) => i as u16,
                None => {
                    columns.push(c);
                    (columns.len() - 1) as u16
                }
            }
        };
        let compiled: Vec<Compiled> = defs
            .indicators
            .iter()
            .map(|d| Compiled {
                numerator: d.numerator.iter().map(|m| col(*m, d.filter.and(d.numerator_filter))).collect(),
                denominator: d.denominator.as_ref().map(|ds| ds.iter().map(|m| col(*m, d.filter)).collect()),
            })
            .collect();
        let slices = Slice::all();
        let mut routes = vec![Vec::new(); Measure::COUNT * Slice::COUNT];
        for (ci, c) in columns.iter().enumerate() {
            for s in &slices {
                if c.filter.matches(*s) {
                    routes[c.measure.index() * Slice::COUNT + s.index()].push(ci as u16);
                }
            }
        }
        IndicatorCube {
            defs: defs.clone(),
            columns,
            compiled,
            routes,
            nodes: Vec::new(),
            index: HashMap::new(),
            blocks: BTreeMap::new(),
        }
    }

    /// A cube of all the facts at once.
    pub fn build(defs: &Definitions, facts: &[Fact]) -> IndicatorCube {
        let mut c = IndicatorCube::new(defs);
        c.apply_delta(facts);
        c
    }

    pub fn definitions(&self) -> &Definitions {
        &self.defs
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    fn node(&mut self, code: RegionCode) -> u32 {
        if let Some(&i) = self.index.get(&code) {
            return i;
        }
        let parent_chain = code.parent().map(|p| {
            let pi = self.node(p) as usize;
            (self.nodes[pi].chain, self.nodes[pi].chain_len)
        });
        let me = self.nodes.len() as u32;
        let mut chain = [me; 5];
        let mut len = 1u8;
        if let Some((pc, pl)) = parent_chain {
            for &a in pc.iter().take(pl as usize) {
                if (len as usize) < chain.len() {
                    chain[len as usize] = a;
                    len += 1;
                }
            }
        }
        self.nodes.push(Node { code, chain, chain_len: len });
        self.index.insert(code, me);
        me
    }

    /// Adds facts: each goes to its village's cell and its ancestors' cells of its
    /// month, in every column it feeds. Nothing else is touched.
    pub fn apply_delta(&mut self, facts: &[Fact]) -> DeltaStats {
        let ncols = self.columns.len();
        let mut stats = DeltaStats { facts: facts.len(), additions: 0 };
        if ncols == 0 {
            return stats;
        }
        // Facts arrive grouped by village more often than not; remember the last.
        let mut last: Option<(RegionCode, u32)> = None;
        for f in facts {
            if f.value == 0 {
                continue;
            }
            let route = &self.routes[f.measure.index() * Slice::COUNT + f.slice.index()];
            if route.is_empty() {
                continue;
            }
            let ni = match last {
                Some((c, i)) if c == f.village => i,
                _ => {
                    let i = self.node(f.village);
                    last = Some((f.village, i));
                    i
                }
            };
            let node = &self.nodes[ni as usize];
            let need = self.nodes.len() * ncols;
            let block = self.blocks.entry(f.month).or_default();
            if block.len() < need {
                // Grow with headroom so a run of new villages does not copy each time.
                block.resize(need.max(block.len() * 3 / 2), 0);
            }
            let route = &self.routes[f.measure.index() * Slice::COUNT + f.slice.index()];
            for &n in &node.chain[..node.chain_len as usize] {
                let base = n as usize * ncols;
                for &c in route {
                    block[base + c as usize] += f.value;
                }
            }
            stats.additions += node.chain_len as usize * route.len();
        }
        stats
    }

    fn cell(&self, block: &[i64], node: usize, col: u16) -> i64 {
        block.get(node * self.columns.len() + col as usize).copied().unwrap_or(0)
    }

    /// The sum of one column for a region over a period, by the measure's
    /// aggregation over time.
    pub fn column_total(&self, region: RegionCode, period: Period, col: usize) -> i64 {
        let Some(&ni) = self.index.get(&region) else {
            return 0;
        };
        let (first, last) = period.months();
        let from = match self.columns[col].measure.aggregation() {
            Aggregation::Flow => Some(first),
            Aggregation::YearToDate => Some(Month::new(last.year(), 1)),
            Aggregation::Stock => None,
        };
        let range = match from {
            Some(f) => self.blocks.range(f..=last),
            None => self.blocks.range(..=last),
        };
        range.map(|(_, b)| self.cell(b, ni as usize, col as u16)).sum()
    }

    fn sum_cols(&self, region: RegionCode, period: Period, cols: &[u16]) -> i64 {
        cols.iter().map(|&c| self.column_total(region, period, c as usize)).sum()
    }

    /// One indicator (by its position in the definitions) for a region and period.
    pub fn indicator(&self, which: usize, region: RegionCode, period: Period) -> IndicatorValue {
        let def = &self.defs.indicators[which];
        let comp = &self.compiled[which];
        let numerator = self.sum_cols(region, period, &comp.numerator);
        let denominator = comp.denominator.as_ref().map(|d| self.sum_cols(region, period, d));
        IndicatorValue { numerator, denominator, value: value_of(def, numerator, denominator) }
    }

    /// One indicator for everything the cube holds (the nation, where the
    /// cube holds the whole country's facts): the sums of its top regions.
    pub fn indicator_total(&self, which: usize, period: Period) -> IndicatorValue {
        let def = &self.defs.indicators[which];
        let comp = &self.compiled[which];
        let roots: Vec<RegionCode> = self.nodes.iter().filter(|n| n.chain_len == 1).map(|n| n.code).collect();
        let sum = |cols: &[u16]| -> i64 { roots.iter().map(|r| self.sum_cols(*r, period, cols)).sum() };
        let numerator = sum(&comp.numerator);
        let denominator = comp.denominator.as_ref().map(|d| sum(d));
        IndicatorValue { numerator, denominator, value: value_of(def, numerator, denominator) }
    }

    /// One indicator by id.
    pub fn indicator_by_id(&self, id: &str, region: RegionCode, period: Period) -> Option<IndicatorValue> {
        let i = self.defs.indicators.iter().position(|d| d.id == id)?;
        Some(self.indicator(i, region, period))
    }

    /// The regions of a level the cube holds facts for, sorted by code.
    pub fn regions(&self, level: RegionLevel) -> Vec<RegionCode> {
        let mut v: Vec<RegionCode> = self.nodes.iter().map(|n| n.code).filter(|c| c.level() == level).collect();
        v.sort();
        v
    }

    /// The months that hold facts.
    pub fn months(&self) -> Vec<Month> {
        self.blocks.keys().copied().collect()
    }

    /// Every non-zero cell, by region and month: two cubes with equal snapshots
    /// answer every query alike.
    pub fn snapshot(&self) -> BTreeMap<(RegionCode, Month), Vec<i64>> {
        let ncols = self.columns.len();
        let mut out = BTreeMap::new();
        for (m, b) in &self.blocks {
            for (ni, n) in self.nodes.iter().enumerate() {
                let row: Vec<i64> = (0..ncols).map(|c| self.cell(b, ni, c as u16)).collect();
                if row.iter().any(|v| *v != 0) {
                    out.insert((n.code, *m), row);
                }
            }
        }
        out
    }
}

/// The figure of an indicator from its sums.
pub fn value_of(def: &IndicatorDef, numerator: i64, denominator: Option<i64>) -> Option<f64> {
    let yuan = |v: i64, money: bool| if money { v as f64 / 100.0 } else { v as f64 };
    let num = yuan(numerator, def.numerator_is_money());
    match denominator {
        None => Some(num),
        Some(0) => None,
        Some(d) => {
            let ratio = match def.unit {
                // A share of like quantities: fen cancel.
                Unit::Share | Unit::Percent => numerator as f64 / d as f64,
                _ => num / yuan(d, def.denominator_is_money()),
            };
            Some(if def.unit == Unit::Percent { ratio * 100.0 } else { ratio })
        }
    }
}
