//! Programme indicators of SafetyNet: the figures a press conference quotes (share
//! of poor patients treated, share treated in their county, out-of-pocket share of
//! costs, households warned and assisted, villages with a qualified doctor,
//! population within the 15-minute circle, chronic patients under contract) by
//! region level and period, and the comparison of a draft policy with the policy in
//! force.
//!
//! - [`measure`]: the base measures, additive facts per village and month.
//! - [`definition`]: indicators as data (TOML), checked.
//! - [`cube`]: the incremental cube that rolls facts up to every level.
//! - [`extract`]: facts from plain registry, claim, settlement, alert and coverage data.
//! - [`report`]: tables by region and period, written as CSV or XLSX to a `Write`,
//!   each value against its target and, when asked, the year before.
//! - [`target`]: targets as data (TOML), and the status of a value against its
//!   target (met, near, missed).
//! - [`whatif`]: a policy comparison by county from two settlements and two alert sets.
//!
//! The crate does no IO of its own beyond writing to a `Write` it is handed, and
//! knows nothing of SQL or HTTP.

pub mod cube;
pub mod definition;
pub mod extract;
pub mod measure;
pub mod period;
pub mod report;
pub mod stored;
pub mod target;
pub mod whatif;

pub use cube::{Fact, IndicatorCube, IndicatorValue};
pub use definition::{DefinitionError, Definitions, Filter, IndicatorDef, Unit};
pub use measure::{Aggregation, Measure, Slice};
pub use period::{Month, Period, PeriodKind};
pub use report::{Compare, Comparisons};
pub use target::{Direction, Status, Target, Targets};
