//! Who used it (docs/design.md §4) over real HTTP: folder and process figures in both
//! attribution modes, at tenant and organization level, hand-computed on job chains that
//! cross folders; a sub-range, paging, scope, the start-up backfill of usage recorded
//! before attribution existed; and a property test against figures recomputed here from
//! the generated runs.
//!
//! `figures` reads the answers. `scenario` is the hand-computed data set and its expected
//! figures, which `modes`, `paging`, `scope` and `backfill` check (and the crate's
//! `folder_view`). `generated`, `oracle` and `property` make the property test.

mod backfill;
mod figures;
mod generated;
mod modes;
mod oracle;
mod paging;
mod property;
pub(crate) mod scenario;
mod scope;
