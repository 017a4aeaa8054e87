//! Redshift SQL text as both products need it, without parsing SQL: where
//! the parameter placeholders stand, how identifiers and literals are quoted,
//! and whether a statement returns rows.

mod kind;
mod placeholders;
mod quote;

pub use kind::{is_query, strip_leading_comments};
pub use placeholders::{Placeholder, PlaceholderKind, placeholders};
pub use quote::{quote_identifier, quote_literal};
