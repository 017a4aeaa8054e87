//! Redshift SQL text as both products need it, without parsing SQL: where
//! the parameter placeholders stand, how identifiers and literals are quoted,
//! whether a statement returns rows, only reads, or is two-phase commit, and
//! what a query's outermost level holds.

mod clauses;
mod kind;
mod lex;
mod placeholders;
mod quote;

pub use clauses::{TopLevel, top_level, trim_statement_end, unload_literal};
pub use kind::{is_query, is_read_only, is_two_phase_commit, keywords, strip_leading_comments};
pub use lex::{Skipped, skip_at};
pub use placeholders::{Placeholder, PlaceholderKind, placeholders};
pub use quote::{quote_identifier, quote_literal};
