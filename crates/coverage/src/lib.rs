//! Service coverage of the rural health network: the second bottom line, "every
//! village is served by a qualified doctor, within reach" (docs/coverage.md).
//!
//! This crate owns the rules and the algorithms, and nothing else:
//! - [`network`]: the registry of regions, facilities and practitioners, checked
//!   for consistency and indexed once, and who *serves* at a date;
//! - [`blank`]: the four kinds of blank spot at a date, and their projection at
//!   +1, +3 and +5 years as doctors age out;
//! - [`geo`]: great-circle distance, the straight-line travel model and a grid
//!   index for nearest-neighbour queries at national scale;
//! - [`reach`]: travel time from every village to the nearest qualified facility
//!   of each kind, and the share of the rural population inside the 15-minute
//!   medical service circle by township, county and province;
//! - [`roads`]: a road graph in compact arrays and a multi-source Dijkstra, the
//!   alternative to the straight-line model; [`osm`] loads one from an
//!   OpenStreetMap extract (the only module here that reads a file);
//! - [`plan`]: roving (巡诊) and dispatched (派驻) doctors for blank villages, solved
//!   as a min-cost flow with a lower bound on travel so a plan can be trusted;
//! - [`tours`]: roving tours, several villages in one half-day, with an upper
//!   bound on the population covered and a lower bound on travel.
//!
//! Architecture invariant: apart from [`osm`]'s file reader, nothing here does IO
//! or knows about SQL, HTTP or CSV: plain data in, plain data out.

pub mod blank;
pub mod error;
pub mod geo;
pub mod mcf;
pub mod network;
pub mod osm;
pub mod plan;
pub mod reach;
pub mod roads;
pub mod tours;

pub use blank::{blank_spots, blank_spots_in, project, BlankKind, BlankSpot, HORIZONS};
pub use error::CoverageError;
pub use geo::{haversine_km, PointIndex, TravelModel};
pub use network::{Network, Settings};
pub use plan::{plan, population_gap, Plan, PlanSettings, VillagePlan};
pub use reach::{reach, reach_on_roads, shares, CircleShare, Reach, ReachCategory};
pub use roads::{Graph, GraphBuilder, SpeedClass};
pub use tours::{tours, Tour, TourPlan, TourSettings};
