//! Robustness (docs/design.md §8, §10, §12): more than ten thousand malformed, mistyped,
//! out-of-range, out-of-scope and oversize requests against one server, with keys of
//! every role. Every answer is JSON and a well-formed GraphQL answer; every error has a
//! message and an `extensions.code` other than INTERNAL (never a 5xx, a panic, a leak of
//! SQL, or a hang); and no refused request changes the stored data.
//!
//! Mutations are made invalid by construction: each one carries at least one value that
//! must be refused (a negative, too precise or too large quantity, an impossible date, an
//! unknown time zone, an id that is garbage, of the wrong kind, unknown or of another
//! organization, a missing or mistyped field…), or is sent with a key whose role may not
//! make it. The stored data is compared after every case (a row count of every table) and
//! after every family of cases (every column of every row, but `api_keys.last_used_at`,
//! which any authenticated request may touch, and `quota_marks.updated_at`).
//!
//! `world` builds the data set; `values`, `inputs`, `cases`, `mutations`, `reads`,
//! `documents` and `bodies` generate the cases; `oracle` sends one and judges the answer,
//! `probe` reads the stored data, and `runner` runs them all. `found` keeps what the fuzz
//! cases found.

mod bodies;
mod cases;
mod documents;
mod found;
mod inputs;
mod mutations;
mod oracle;
mod probe;
mod reads;
mod runner;
mod values;
mod world;
