//! Which Data API result format new statements use: fixed by
//! `--result-format csv|json`, or chosen by the result-format probe at
//! start-up (`auto`), which also falls back to JSON for good on the first
//! CSV page the converters cannot read.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::convert::ConvertError;
use crate::dataapi::ResultFormat;
use crate::telemetry::metrics;

/// The format of new statements, shared by every clone.
#[derive(Debug, Clone)]
pub(crate) struct FormatSelector {
    csv: Arc<AtomicBool>,
    /// Whether an unreadable CSV page switches to JSON (`auto`).
    falls_back: bool,
}

impl FormatSelector {
    /// Always `format` (`--result-format csv|json`).
    pub(crate) fn fixed(format: ResultFormat) -> Self {
        Self::with(format, false)
    }

    /// `format`, as the probe chose it, until a CSV page cannot be read.
    pub(crate) fn chosen(format: ResultFormat) -> Self {
        Self::with(format, true)
    }

    fn with(format: ResultFormat, falls_back: bool) -> Self {
        metrics::result_format(format);
        Self {
            csv: Arc::new(AtomicBool::new(format == ResultFormat::Csv)),
            falls_back,
        }
    }

    /// The format of the next statement.
    pub(crate) fn get(&self) -> ResultFormat {
        if self.csv.load(Ordering::Relaxed) {
            ResultFormat::Csv
        } else {
            ResultFormat::Json
        }
    }

    /// A CSV page of `statement_id` could not be converted: with `auto`,
    /// later statements use JSON. Returns whether this call switched.
    pub(crate) fn unreadable_csv(&self, statement_id: &str, error: &ConvertError) -> bool {
        if !self.falls_back || !self.csv.swap(false, Ordering::Relaxed) {
            return false;
        }
        metrics::result_format(ResultFormat::Json);
        tracing::error!(
            statement_id,
            %error,
            "a CSV result page could not be read: using the JSON result format from now on"
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad_value() -> ConvertError {
        ConvertError {
            column: "n".to_owned(),
            type_name: "int4".to_owned(),
            row: 0,
            message: "\"\" is not an integer".to_owned(),
        }
    }

    #[test]
    fn auto_falls_back_to_json_once_and_for_every_clone() {
        let selector = FormatSelector::chosen(ResultFormat::Csv);
        let clone = selector.clone();
        assert_eq!(clone.get(), ResultFormat::Csv);
        assert!(selector.unreadable_csv("s1", &bad_value()));
        assert!(!selector.unreadable_csv("s2", &bad_value()));
        assert_eq!(clone.get(), ResultFormat::Json);
    }

    #[test]
    fn a_fixed_format_stays() {
        let selector = FormatSelector::fixed(ResultFormat::Csv);
        assert!(!selector.unreadable_csv("s1", &bad_value()));
        assert_eq!(selector.get(), ResultFormat::Csv);
    }
}
