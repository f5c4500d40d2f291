//! The search index: what finds a record by a name in any script, a number, an id or its text.
//!
//! Every save rebuilds the entries of the record it touched from its current head(s):
//! name keys ([`keys`]: Сенбай = Senbay = Senbai), number keys (documents, receipts, case
//! references), the index of references (who refers to whom, for a person's page), and its full
//! text — at once, or queued and indexed in batches (`queue`). [`queries`] runs searches and
//! returns record ids; summaries and wording are higher up.

mod duplicates;
mod facts;
mod indexer;
pub mod keys;
mod queries;
mod queue;

pub(crate) use duplicates::candidates as duplicate_candidates;
pub(crate) use facts::{fill_once as fill_facts_once, FILLED as FACTS_FILLED};
pub(crate) use indexer::{reindex, reindex_record, Text};
pub use queries::MatchKind;
pub(crate) use queries::{referring, search_ids};
pub(crate) use queue::{flush_if_pending, mark_all_indexed, note_save, queue_len};
