//! Prometheus' text exposition format (version 0.0.4), written by hand: a `# HELP` and a
//! `# TYPE` line per family, then `name{label="value",…} value` samples.
//!
//! Hand-written rather than through the `prometheus-client` crate: assetd's handful of
//! families are atomics and small structs it already keeps, the format is a stable line
//! format, and what it takes to get right (escaping, value spelling, one TYPE per family)
//! fits in this file and its tests, where a registry crate would add a second model of the
//! same counters.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The `Content-Type` of a scrape answer.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A label value with `\`, `"` and line feeds escaped, as the format requires (any other
/// UTF-8 is allowed as is).
pub fn escape_label_value(v: &str) -> Cow<'_, str> {
    if !v.contains(['\\', '"', '\n']) {
        return Cow::Borrowed(v);
    }
    let mut out = String::with_capacity(v.len() + 2);
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// HELP text escapes only `\` and line feeds.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as Prometheus reads it: whole numbers without a fraction, `+Inf`, `-Inf`
/// and `NaN` spelled its way.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Builds one exposition. Families must be written whole, one after the other.
#[derive(Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    /// Starts a family: its HELP and TYPE lines.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample of the current family (`name` carries a histogram's `_bucket`, `_sum` or
    /// `_count` suffix). Label names are assetd's own identifiers; values are escaped.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label_value(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", format_value(value));
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a label set back as Prometheus does: `k="v",…` with `\\`, `\"`, `\n` escapes.
    fn parse_labels(s: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut chars = s.chars().peekable();
        while chars.peek().is_some() {
            let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
            assert_eq!(chars.next(), Some('"'));
            let mut value = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => value.push('\n'),
                        Some(c) => value.push(c),
                        None => panic!("dangling escape"),
                    },
                    c => value.push(c),
                }
            }
            out.push((key, value));
            if chars.peek() == Some(&',') {
                chars.next();
            }
        }
        out
    }

    #[test]
    fn label_values_are_escaped_and_read_back_unchanged() {
        assert_eq!(escape_label_value("auvik-eu"), "auvik-eu");
        assert_eq!(escape_label_value(r#"a"b"#), r#"a\"b"#);
        assert_eq!(escape_label_value(r"C:\temp"), r"C:\\temp");
        assert_eq!(escape_label_value("two\nlines"), r"two\nlines");
        assert_eq!(escape_label_value("Zürich {x=1}"), "Zürich {x=1}");
        let nasty = "q\"uote\\back\nline,comma=eq}brace";
        let mut w = Writer::default();
        w.family("t_total", Kind::Counter, "A test.");
        w.sample("t_total", &[("a", nasty), ("b", "plain")], 1.0);
        let text = w.finish();
        let line = text.lines().nth(2).expect("a sample line");
        assert_eq!(line.lines().count(), 1, "one line whatever the value holds");
        let inner = line
            .strip_prefix("t_total{")
            .and_then(|l| l.strip_suffix("} 1"))
            .expect("name{labels} value");
        assert_eq!(
            parse_labels(inner),
            [
                ("a".to_owned(), nasty.to_owned()),
                ("b".to_owned(), "plain".to_owned())
            ]
        );
    }

    #[test]
    fn families_and_values_are_spelled_as_prometheus_reads_them() {
        let mut w = Writer::default();
        w.family("x_seconds", Kind::Histogram, "Line one\nwith a \\ in it.");
        w.sample("x_seconds_bucket", &[("le", "+Inf")], 3.0);
        w.sample("x_seconds_sum", &[], 2.5);
        w.family("up", Kind::Gauge, "Up.");
        w.sample("up", &[], 1.0);
        assert_eq!(
            w.finish(),
            "# HELP x_seconds Line one\\nwith a \\\\ in it.\n# TYPE x_seconds histogram\n\
             x_seconds_bucket{le=\"+Inf\"} 3\nx_seconds_sum 2.5\n\
             # HELP up Up.\n# TYPE up gauge\nup 1\n"
        );
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(1_700_000_000.0), "1700000000");
        assert_eq!(format_value(0.125), "0.125");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(f64::NAN), "NaN");
    }
}
