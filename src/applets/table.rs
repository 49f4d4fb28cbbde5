//! A small column formatter shared by the applets (ps, lsof, findmnt, ss, …).
//!
//! Columns are sized to the wider of their header, an optional minimum
//! width and their widest cell, so output lines up like procps/iproute2 while
//! never cutting a value (unless a column has a maximum width). The last
//! column, when left-aligned, is not padded, so lines carry no trailing
//! blanks. Widths count `char`s, which is right for the ASCII that these
//! tools print and close enough for the odd UTF-8 file name.
//!
//! ```text
//! use cdbg::applets::table::{Align, Table};
//! let mut t = Table::new();
//! t.col("PID", Align::Right).col("CMD", Align::Left);
//! t.row(["1", "init"]);
//! t.row(["4242", "sleep 10"]);
//! assert_eq!(t.render(), " PID CMD\n   1 init\n4242 sleep 10\n");
//! ```

use std::io::{self, Write};

/// Where a cell sits inside its column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Padded on the right (text).
    Left,
    /// Padded on the left (numbers).
    Right,
}

/// One column: its header, alignment and width bounds.
#[derive(Clone, Debug)]
pub struct Column {
    /// Header text (printed unless [`Table::headers`] is off).
    pub header: String,
    /// Alignment of header and cells.
    pub align: Align,
    /// The column is at least this wide (e.g. procps' fixed widths).
    pub min_width: usize,
    /// Cells longer than this are cut (`None`: never cut).
    pub max_width: Option<usize>,
}

/// A table of rows of string cells, rendered with aligned columns.
#[derive(Clone, Debug)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
    /// Print the header line (default true).
    pub headers: bool,
    /// Text between two columns (default one space).
    pub separator: String,
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

impl Table {
    /// An empty table with headers on and a one-space separator.
    pub fn new() -> Self {
        Table {
            columns: Vec::new(),
            rows: Vec::new(),
            headers: true,
            separator: " ".to_string(),
        }
    }

    /// Adds a column.
    pub fn col(&mut self, header: impl Into<String>, align: Align) -> &mut Self {
        self.columns.push(Column {
            header: header.into(),
            align,
            min_width: 0,
            max_width: None,
        });
        self
    }

    /// Adds a column with a minimum width.
    pub fn col_min(&mut self, header: impl Into<String>, align: Align, min: usize) -> &mut Self {
        self.col(header, align);
        self.columns.last_mut().expect("just pushed").min_width = min;
        self
    }

    /// Adds a fully described column.
    pub fn push_column(&mut self, column: Column) -> &mut Self {
        self.columns.push(column);
        self
    }

    /// The columns, e.g. to change a width after the fact.
    pub fn columns_mut(&mut self) -> &mut [Column] {
        &mut self.columns
    }

    /// Adds a row. Missing cells print empty; extra cells are ignored.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Number of rows added so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The width each column gets.
    pub fn widths(&self) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut w = c.min_width;
                if self.headers {
                    w = w.max(width(&c.header));
                }
                for r in &self.rows {
                    if let Some(cell) = r.get(i) {
                        w = w.max(width(cell));
                    }
                }
                match c.max_width {
                    Some(m) => w.min(m),
                    None => w,
                }
            })
            .collect()
    }

    /// Renders the whole table, one `\n`-terminated line per row.
    pub fn render(&self) -> String {
        let widths = self.widths();
        let mut out = String::new();
        if self.headers {
            let hdr: Vec<&str> = self.columns.iter().map(|c| c.header.as_str()).collect();
            self.line(&mut out, &widths, &hdr);
        }
        for r in &self.rows {
            let cells: Vec<&str> = (0..self.columns.len())
                .map(|i| r.get(i).map(String::as_str).unwrap_or(""))
                .collect();
            self.line(&mut out, &widths, &cells);
        }
        out
    }

    /// Writes the rendered table to `w`.
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(self.render().as_bytes())
    }

    fn line(&self, out: &mut String, widths: &[usize], cells: &[&str]) {
        let start = out.len();
        let n = self.columns.len();
        for (i, (c, cell)) in self.columns.iter().zip(cells).enumerate() {
            if i > 0 {
                out.push_str(&self.separator);
            }
            let w = widths[i];
            let cell = cut(cell, c.max_width);
            let pad = w.saturating_sub(width(cell));
            match c.align {
                Align::Right => {
                    out.extend(std::iter::repeat_n(' ', pad));
                    out.push_str(cell);
                }
                Align::Left => {
                    out.push_str(cell);
                    if i + 1 < n {
                        out.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
        }
        // No trailing blanks, even when the last cells are empty.
        let trimmed = out[start..].trim_end().len();
        out.truncate(start + trimmed);
        out.push('\n');
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn cut(s: &str, max: Option<usize>) -> &str {
    match max {
        Some(m) => match s.char_indices().nth(m) {
            Some((i, _)) => &s[..i],
            None => s,
        },
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_and_trims() {
        let mut t = Table::new();
        t.col("USER", Align::Left)
            .col_min("PID", Align::Right, 5)
            .col("CMD", Align::Left);
        t.row(["root", "1", "init"]);
        t.row(["nobody", "123456", ""]);
        assert_eq!(
            t.render(),
            "USER      PID CMD\nroot        1 init\nnobody 123456\n"
        );
    }

    #[test]
    fn no_headers_and_max_width() {
        let mut t = Table::new();
        t.headers = false;
        t.separator = "  ".into();
        t.push_column(Column {
            header: "NAME".into(),
            align: Align::Left,
            min_width: 0,
            max_width: Some(3),
        });
        t.col("X", Align::Left);
        t.row(["abcdef", "x"]);
        assert_eq!(t.render(), "abc  x\n");
    }
}
