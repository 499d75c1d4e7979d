//! The pure domain of SafetyNet: the types every other crate speaks, each of which
//! can only be built from a valid value.
//!
//! Parse, don't validate: a string from a file, a form or a request becomes a
//! [`ResidentId`], a [`RegionCode`], a [`Fen`] amount or an enum at the boundary, and
//! the parse error says in plain words what was wrong. Nothing here does IO beyond
//! reading a catalogue from text it is handed; nothing knows about SQL or HTTP.

pub mod alert;
pub mod cache;
pub mod catalogue;
pub mod divisions;
pub mod enrolment;
pub mod enums;
pub mod error;
pub mod fasthash;
pub mod history;
pub mod item_lines;
pub mod items;
pub mod ledger;
pub mod limits;
pub mod money;
pub mod outlines;
pub mod pairing;
pub mod plans;
pub mod poverty_counties;
pub mod records;
pub mod region;
pub mod resident_id;
pub mod settlement;
pub mod text;
pub mod time;
pub mod work;

pub use catalogue::{Catalogue, CatalogueEntry};
pub use enrolment::{Enrolment, SubsidyCategory};
pub use enums::*;
pub use error::DomainError;
pub use fasthash::{FastBuild, FastHasher, FastMap};
pub use history::{Posting, PostingRole, QualificationHeld};
pub use items::{BillTotals, CatalogueItem, ClaimItem, ItemCategory, PricedItem, Quantity};
pub use limits::{AmountLimit, AmountLimits, LimitSubject};
pub use money::{Fen, Rate};
pub use pairing::{Pairing, PairingRow, StaffSent, TelemedicineKind, TelemedicineLink};
pub use plans::{LineKind, PlanDays, PlanLine, PlanState, PlanTour, PlanVisit};
pub use poverty_counties::{CountyGroup, PovertyCounties};
pub use records::*;
pub use region::{RegionCode, RegionLevel};
pub use resident_id::{ResidentId, Sex};
pub use text::{check_name, check_text};
pub use time::{add_years, age_on, parse_date};
