//! Rendering records as an aligned table, JSON or CSV.
//!
//! - **table**: aligned columns. On a terminal they are fitted to its width (`TIOCGWINSZ`
//!   on stdout, asked through `console`); in a pipe or file, to `$COLUMNS` when it is set,
//!   else not at all, so `grep` and `awk` see whole cells. To fit, the free-text columns
//!   (names, models, errors) give way first, then the other text columns; cut cells end in
//!   `…`. Right-aligned columns (ids, counts) are never cut: a wrong number is worse than a
//!   wrapped line. Control characters in vendor data are replaced by spaces, so a cell can
//!   never move the cursor.
//! - **json**: a list is one JSON array written incrementally, one record per line; a single
//!   record is one pretty-printed object. The record shapes are documented in `convert`.
//! - **csv**: a header row, then one row per record; RFC 4180: fields containing `,`, `"`,
//!   CR or LF are quoted and `"` doubled, lines end in CRLF; UTF-8 without a byte-order mark;
//!   lists joined with `;`. A text field that a spreadsheet would take for a formula (it
//!   starts with `=`, `+`, `-`, `@`, a tab or CR and is not a number) gets a leading `'`:
//!   device names come from the network, and a name like `=HYPERLINK(…)` must not run when
//!   the export is opened (OWASP's advice on CSV injection).

use std::borrow::Cow;
use std::io::{self, IsTerminal, Write};
use std::marker::PhantomData;

use serde::Serialize;

/// The `-o` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// The width tables are fitted to, or `None` for no limit: the terminal's on stdout, else
/// `$COLUMNS`, else none (see the module docs).
pub fn table_width() -> Option<usize> {
    choose_width(stdout_columns(), std::env::var("COLUMNS").ok().as_deref())
}

/// The terminal wins over `$COLUMNS`, as for `ls`: a shell's exported `COLUMNS` goes stale
/// when the window is resized, the terminal never does. Off a terminal, `COLUMNS` is how a
/// script asks for fitted output.
fn choose_width(tty: Option<usize>, columns: Option<&str>) -> Option<usize> {
    tty.or_else(|| {
        columns
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|&c| c > 0)
    })
}

/// Whether stderr is a terminal that can show live progress (not `TERM=dumb`).
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// The column count of the terminal on stdout, or `None` when stdout is not a terminal or
/// the terminal reports no size. `console` (indicatif's terminal layer, which sizes the
/// `sync --wait` bars the same way) asks the terminal with `TIOCGWINSZ`.
fn stdout_columns() -> Option<usize> {
    console::Term::stdout()
        .size_checked()
        .map(|(_rows, cols)| usize::from(cols))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table column. Flexible columns (long free text) are shortened first; right-aligned
/// ones (ids and counts) never.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub header: &'static str,
    pub align: Align,
    pub flex: bool,
}

pub const fn left(header: &'static str) -> Col {
    Col {
        header,
        align: Align::Left,
        flex: false,
    }
}

pub const fn right(header: &'static str) -> Col {
    Col {
        header,
        align: Align::Right,
        flex: false,
    }
}

/// A left-aligned column of free text that gives up width before the others.
pub const fn flex(header: &'static str) -> Col {
    Col {
        header,
        align: Align::Left,
        flex: true,
    }
}

/// How one value of a record is shown: a table cell or a CSV field.
pub type Field<R> = fn(&R) -> String;

/// A record that can be printed in every format. Each record type describes itself once,
/// as two tables pairing every column with the value it shows.
pub trait Record: Serialize + 'static {
    /// The table columns and their cells.
    const TABLE: &'static [(Col, Field<Self>)];
    /// The CSV columns (the JSON field names, in order) and their fields.
    const CSV: &'static [(&'static str, Field<Self>)];

    fn table_columns() -> Vec<Col> {
        Self::TABLE.iter().map(|(col, _)| *col).collect()
    }
    fn table_row(&self) -> Vec<String> {
        Self::TABLE.iter().map(|(_, field)| field(self)).collect()
    }
    fn csv_header() -> Vec<&'static str> {
        Self::CSV.iter().map(|(name, _)| *name).collect()
    }
    fn csv_row(&self) -> Vec<String> {
        Self::CSV.iter().map(|(_, field)| field(self)).collect()
    }
}

/// Replace control characters (newlines, tabs, escapes) with spaces.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(
            s.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// Cut `s` to at most `width` characters, ending in `…` when cut.
pub fn truncate(s: &str, width: usize) -> Cow<'_, str> {
    if s.chars().count() <= width {
        return Cow::Borrowed(s);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    Cow::Owned(out)
}

/// Two spaces between columns.
const GAP: usize = 2;
/// Columns are not shortened below this (or their natural width, if smaller).
const MIN_COL: usize = 6;

/// Lay out `rows` under `cols` within `width` characters (`None`: as wide as they are). When
/// even the shortened text columns do not fit, the lines are left wider than `width`.
pub fn render_table(cols: &[Col], rows: &[Vec<String>], width: Option<usize>) -> String {
    let width = width.unwrap_or(usize::MAX);
    let clean: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|r| r.iter().map(|c| sanitize(c)).collect())
        .collect();
    let mut widths: Vec<usize> = cols.iter().map(|c| c.header.chars().count()).collect();
    for row in &clean {
        for (i, cell) in row.iter().enumerate().take(cols.len()) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let floor: Vec<usize> = widths.iter().map(|&w| w.min(MIN_COL)).collect();
    let total = |w: &[usize]| w.iter().sum::<usize>() + GAP * w.len().saturating_sub(1);
    // Shorten the widest flexible column that can still give, then the widest other text
    // column; numbers (right-aligned) keep every digit.
    let widest = |widths: &[usize], flex_only: bool| {
        widths
            .iter()
            .enumerate()
            .filter(|&(i, &w)| {
                w > floor[i] && cols[i].align == Align::Left && (cols[i].flex || !flex_only)
            })
            .max_by_key(|&(i, &w)| (w, std::cmp::Reverse(i)))
            .map(|(i, _)| i)
    };
    while total(&widths) > width {
        let Some(i) = widest(&widths, true).or_else(|| widest(&widths, false)) else {
            break;
        };
        widths[i] -= 1;
    }

    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, cell) in cells.enumerate().take(cols.len()) {
            if i > 0 {
                l.push_str(&" ".repeat(GAP));
            }
            let cell = truncate(cell, widths[i]);
            let pad = widths[i].saturating_sub(cell.chars().count());
            match cols[i].align {
                Align::Left => {
                    l.push_str(&cell);
                    l.push_str(&" ".repeat(pad));
                }
                Align::Right => {
                    l.push_str(&" ".repeat(pad));
                    l.push_str(&cell);
                }
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut cols.iter().map(|c| c.header));
    for row in &clean {
        line(&mut row.iter().map(|c| c.as_ref()));
    }
    out
}

/// One CSV field, defused if a spreadsheet would run it, then quoted when it has to be
/// (RFC 4180).
pub fn csv_field(s: &str) -> Cow<'_, str> {
    let s = defuse_formula(s);
    if s.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        s
    }
}

/// `'` before text that a spreadsheet would evaluate as a formula. Numbers (a negative
/// difference, say) stay as they are.
fn defuse_formula(s: &str) -> Cow<'_, str> {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && s.trim().parse::<f64>().is_err() {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// One CSV line, with RFC 4180's CRLF line end.
pub fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// Writes records as they come: JSON and CSV straight through, tables once all are in
/// (to size the columns).
pub struct Sink<R: Record, W: Write> {
    format: Format,
    out: W,
    width: Option<usize>,
    rows: Vec<Vec<String>>,
    count: u64,
    _record: PhantomData<fn(&R)>,
}

impl<R: Record, W: Write> Sink<R, W> {
    pub fn new(format: Format, out: W, width: Option<usize>) -> Self {
        Self {
            format,
            out,
            width,
            rows: Vec::new(),
            count: 0,
            _record: PhantomData,
        }
    }

    pub fn push(&mut self, record: &R) -> anyhow::Result<()> {
        match self.format {
            Format::Table => self.rows.push(record.table_row()),
            Format::Json => {
                self.out
                    .write_all(if self.count == 0 { b"[\n" } else { b",\n" })?;
                serde_json::to_writer(&mut self.out, record).map_err(io::Error::from)?;
            }
            Format::Csv => {
                if self.count == 0 {
                    self.out.write_all(csv_line(&R::csv_header()).as_bytes())?;
                }
                self.out.write_all(csv_line(&record.csv_row()).as_bytes())?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Finish the output; returns how many records were written.
    pub fn finish(mut self) -> anyhow::Result<u64> {
        match self.format {
            Format::Table => {
                let table = render_table(&R::table_columns(), &self.rows, self.width);
                self.out.write_all(table.as_bytes())?;
            }
            Format::Json => {
                self.out
                    .write_all(if self.count == 0 { b"[]\n" } else { b"\n]\n" })?;
            }
            Format::Csv => {
                if self.count == 0 {
                    self.out.write_all(csv_line(&R::csv_header()).as_bytes())?;
                }
            }
        }
        self.out.flush()?;
        Ok(self.count)
    }
}

/// Print a whole list at once.
pub fn print_list<R: Record>(format: Format, records: &[R]) -> anyhow::Result<u64> {
    let mut sink = Sink::new(
        format,
        io::BufWriter::new(io::stdout().lock()),
        table_width(),
    );
    for r in records {
        sink.push(r)?;
    }
    sink.finish()
}

/// Print one value as a pretty JSON object.
pub fn print_json_object<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Write plain text to stdout.
pub fn print_text(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_follows_rfc4180() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(csv_field("Zürich; Genève"), "Zürich; Genève");
        assert_eq!(
            csv_line(&["1", "Contoso, Ltd.", "", "\"q\""]),
            "1,\"Contoso, Ltd.\",,\"\"\"q\"\"\"\r\n"
        );
    }

    #[test]
    fn csv_defuses_formulas_but_not_numbers() {
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("+44 20 7946"), "'+44 20 7946");
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_field("-1.25"), "-1.25");
        assert_eq!(csv_field("-3"), "-3");
        assert_eq!(csv_field("-5 dBm"), "'-5 dBm");
        assert_eq!(csv_field("a=b"), "a=b");
    }

    #[test]
    fn truncation_marks_cut_cells() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("exactly10!", 10), "exactly10!");
        assert_eq!(truncate("this is too long", 8), "this is…");
        assert_eq!(truncate("ünïcödé-text", 5), "ünïc…");
        assert_eq!(truncate("x", 0), "");
    }

    #[test]
    fn table_fits_the_width_and_cuts_the_widest_column() {
        let cols = [right("ID"), left("NAME"), left("STATE")];
        let rows = vec![
            vec![
                "1".to_owned(),
                "a very long device name that will not fit".to_owned(),
                "ok".to_owned(),
            ],
            vec!["22".to_owned(), "short".to_owned(), "failed".to_owned()],
        ];
        let out = render_table(&cols, &rows, Some(30));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3);
        for l in &lines {
            assert!(l.chars().count() <= 30, "{l:?} is wider than 30");
        }
        assert_eq!(lines[0], "ID  NAME                STATE");
        assert_eq!(lines[1], " 1  a very long devic…  ok");
        assert_eq!(lines[2], "22  short               failed");
    }

    #[test]
    fn flexible_columns_give_way_first() {
        let cols = [left("STATE"), flex("DETAIL")];
        let rows = vec![vec![
            "credentials_rejected".to_owned(),
            "the vendor said no, at length".to_owned(),
        ]];
        let out = render_table(&cols, &rows, Some(36));
        assert_eq!(
            out.lines().nth(1),
            Some("credentials_rejected  the vendor sa…")
        );
    }

    #[test]
    fn table_leaves_narrow_output_alone_and_strips_control_characters() {
        let cols = [left("A"), left("B")];
        let rows = vec![vec!["x\ny".to_owned(), "\x1b[31mred".to_owned()]];
        let out = render_table(&cols, &rows, Some(120));
        assert_eq!(out, "A    B\nx y   [31mred\n");
    }

    #[test]
    fn ids_and_counts_are_never_cut() {
        let cols = [right("ID"), flex("NAME"), right("ASSETS")];
        let rows = vec![vec![
            "123456789".to_owned(),
            "Contoso Ltd".to_owned(),
            "98765".to_owned(),
        ]];
        // Room for the numbers and a shortened name.
        let out = render_table(&cols, &rows, Some(25));
        assert_eq!(out.lines().nth(1), Some("123456789  Conto…   98765"));
        // No room even for that: the name stops at its floor and the line is left wider
        // than asked, with every digit.
        let out = render_table(&cols, &rows, Some(10));
        assert_eq!(out.lines().nth(1), Some("123456789  Conto…   98765"));
    }

    #[test]
    fn no_width_means_no_cutting() {
        let cols = [right("ID"), flex("NAME")];
        let long = "a device name far longer than any terminal is wide ".repeat(4);
        let rows = vec![vec!["1".to_owned(), long.clone()]];
        let out = render_table(&cols, &rows, None);
        assert_eq!(
            out.lines().nth(1),
            Some(format!(" 1  {}", long.trim_end()).as_str())
        );
    }

    #[test]
    fn the_terminal_wins_over_columns_which_wins_over_nothing() {
        assert_eq!(choose_width(Some(80), Some("200")), Some(80));
        assert_eq!(choose_width(None, Some("200")), Some(200));
        assert_eq!(choose_width(None, Some(" 90 ")), Some(90));
        assert_eq!(choose_width(None, Some("0")), None);
        assert_eq!(choose_width(None, Some("wide")), None);
        assert_eq!(choose_width(None, None), None);
    }

    #[test]
    fn sinks_write_every_format() {
        #[derive(Serialize)]
        struct R {
            id: i64,
            name: String,
        }
        impl Record for R {
            const TABLE: &'static [(Col, Field<Self>)] = &[
                (right("ID"), |r| r.id.to_string()),
                (left("NAME"), |r| r.name.clone()),
            ];
            const CSV: &'static [(&'static str, Field<Self>)] =
                &[("id", |r| r.id.to_string()), ("name", |r| r.name.clone())];
        }
        let render = |format, records: &[R]| {
            let mut buf = Vec::new();
            let mut sink = Sink::new(format, &mut buf, Some(80));
            for r in records {
                sink.push(r).expect("push");
            }
            sink.finish().expect("finish");
            String::from_utf8(buf).expect("utf-8")
        };
        let two = [
            R {
                id: 1,
                name: "a,b".into(),
            },
            R {
                id: 2,
                name: "c".into(),
            },
        ];
        assert_eq!(render(Format::Json, &[]), "[]\n");
        let json = render(Format::Json, &two);
        assert_eq!(
            json,
            "[\n{\"id\":1,\"name\":\"a,b\"},\n{\"id\":2,\"name\":\"c\"}\n]\n"
        );
        assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
        assert_eq!(render(Format::Csv, &[]), "id,name\r\n");
        assert_eq!(render(Format::Csv, &two), "id,name\r\n1,\"a,b\"\r\n2,c\r\n");
        assert_eq!(render(Format::Table, &two), "ID  NAME\n 1  a,b\n 2  c\n");
    }
}
