//! oslo.config's INI dialect, as `oslo_config.iniparser.BaseParser` and `cfg.ConfigParser`
//! (oslo.config 10.x) read a file. It is not Python's `configparser`:
//!
//! * lines end at `\n`, `\r\n` or a lone `\r` (Python's universal newlines); trailing
//!   whitespace is dropped, and a line left empty ends a multi-line value;
//! * `#` and `;` start a comment only at the start of a line: `key = a # b` keeps `a # b`;
//! * a line starting with a space or a tab continues the previous value: the value's lines
//!   are joined with `\n`, each without its leading whitespace. After a blank line, a comment
//!   or a section header there is no value to continue, and it is an error;
//! * `[name]` starts a section, taken verbatim between the brackets (`[ x ]` is `" x "`);
//!   anything after the `]` is an error. Sections may repeat; their keys add up;
//! * `key = value` or `key: value`, split at whichever of `=` and `:` comes first; key and value
//!   are stripped, and a value that starts and ends with the same quote (`"` or `'`) loses them;
//! * keys are case-sensitive; section names other than `DEFAULT` are lowercased (so
//!   `[OSLO_MESSAGING_RABBIT]` is `[oslo_messaging_rabbit]`, and `[default]` is not `[DEFAULT]`);
//! * a key given several times keeps every value; the last one is what oslo uses;
//! * no `%` interpolation (`$name` substitution happens later, see `template.rs`).

use super::is_python_space;

/// The section oslo.config does not lowercase.
pub(crate) const DEFAULT_SECTION: &str = "DEFAULT";

/// One parsed file: its assignments in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IniFile {
    pub(crate) entries: Vec<Entry>,
}

/// One `key = value` assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The section's normalized name (see the module documentation).
    pub(crate) section: String,
    pub(crate) key: String,
    /// The value, its continuation lines joined with `\n`.
    pub(crate) value: String,
    /// The 1-based line of the key.
    pub(crate) line: usize,
}

/// Why oslo.config refuses a file (its `ConfigFileParseError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// The 1-based line.
    pub(crate) line: usize,
    /// oslo.config's own wording.
    pub(crate) message: &'static str,
    /// The offending line.
    pub(crate) text: String,
}

impl IniFile {
    /// The last value of `key` in (normalized) `section`, with the line it is on.
    pub(crate) fn last(&self, section: &str, key: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|entry| entry.section == section && entry.key == key)
    }
}

/// A section name as oslo.config compares it (`_normalize_group_name`).
pub(crate) fn normalize_section(name: &str) -> String {
    if name == DEFAULT_SECTION {
        name.to_owned()
    } else {
        name.to_lowercase()
    }
}

/// Parses a file's text. Never panics, whatever the input.
pub(crate) fn parse(text: &str) -> Result<IniFile, ParseError> {
    let mut parser = Parser::default();
    for (index, line) in lines(text).enumerate() {
        parser.line(index + 1, line)?;
    }
    parser.flush()?;
    Ok(parser.file)
}

#[derive(Default)]
struct Parser {
    file: IniFile,
    section: Option<String>,
    /// The assignment being read: key, value lines, line of the key.
    pending: Option<(String, Vec<String>, usize)>,
}

impl Parser {
    fn line(&mut self, number: usize, line: &str) -> Result<(), ParseError> {
        let error = |message| ParseError {
            line: number,
            message,
            text: line.to_owned(),
        };
        let line = line.trim_end_matches(is_python_space);
        if line.is_empty() {
            return self.flush();
        }
        if line.starts_with([' ', '\t']) {
            return match &mut self.pending {
                Some((_, value, _)) => {
                    value.push(line.trim_start_matches(is_python_space).to_owned());
                    Ok(())
                }
                None => Err(error("Unexpected continuation line")),
            };
        }
        self.flush()?;
        if line.starts_with('[') {
            let Some(name) = line.strip_suffix(']') else {
                return Err(error("Invalid section (must end with ])"));
            };
            // Python's `len(line) <= 2`: `[]` (and a lone `]` after `[`) has no name.
            if line.chars().count() <= 2 {
                return Err(error("Empty section name"));
            }
            self.section = Some(normalize_section(&name[1..]));
        } else if !line.starts_with(['#', ';']) {
            let (key, value) =
                split_key_value(line).ok_or_else(|| error("No ':' or '=' found in assignment"))?;
            if key.is_empty() {
                return Err(error("Key cannot be empty"));
            }
            self.pending = Some((key.to_owned(), vec![value.to_owned()], number));
        }
        Ok(())
    }

    /// Stores the assignment being read, if any.
    fn flush(&mut self) -> Result<(), ParseError> {
        let Some((key, value, line)) = self.pending.take() else {
            return Ok(());
        };
        let Some(section) = &self.section else {
            return Err(ParseError {
                line,
                message: "Section must be started before assignment",
                text: key,
            });
        };
        self.file.entries.push(Entry {
            section: section.clone(),
            key,
            value: value.join("\n"),
            line,
        });
        Ok(())
    }
}

/// `BaseParser._split_key_value`: split at the first `=` or `:`, strip both sides, drop one
/// pair of matching quotes around the value.
fn split_key_value(line: &str) -> Option<(&str, &str)> {
    let at = line.find(['=', ':'])?;
    let key = line[..at].trim_matches(is_python_space);
    let value = line[at + 1..].trim_matches(is_python_space);
    let quoted = value.starts_with(['"', '\'']) && value.ends_with(&value[..1]);
    // Both quotes are one byte; a lone quote is first and last at once, and Python's
    // value[1:-1] is then empty.
    let value = match (quoted, value.len()) {
        (true, 1) => "",
        (true, len) => &value[1..len - 1],
        (false, _) => value,
    };
    Some((key, value))
}

/// The lines of `text` as Python's text-mode `readlines()` gives them (universal newlines),
/// without their line ends.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            Some(at) => {
                let after = if current[at..].starts_with("\r\n") {
                    at + 2
                } else {
                    at + 1
                };
                rest = Some(&current[after..]).filter(|next| !next.is_empty());
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current).filter(|line| !line.is_empty())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Vec<(String, String, String, usize)> {
        parse(text)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .entries
            .into_iter()
            .map(|e| (e.section, e.key, e.value, e.line))
            .collect()
    }

    fn row(section: &str, key: &str, value: &str, line: usize) -> (String, String, String, usize) {
        (section.to_owned(), key.to_owned(), value.to_owned(), line)
    }

    fn error(text: &str) -> (usize, &'static str) {
        let error = parse(text).expect_err(text);
        (error.line, error.message)
    }

    #[test]
    fn sections_keys_and_values() {
        let text = "[DEFAULT]\ntransport_url = rabbit://h/\n\n# comment = no\n; also = no\n\
                    [OSLO_Messaging_Rabbit]\nssl: true\nkey=a = b : c\nempty =\n";
        assert_eq!(
            entries(text),
            [
                row("DEFAULT", "transport_url", "rabbit://h/", 2),
                row("oslo_messaging_rabbit", "ssl", "true", 7),
                row("oslo_messaging_rabbit", "key", "a = b : c", 8),
                row("oslo_messaging_rabbit", "empty", "", 9),
            ]
        );
        // `[default]` is lowercased like any other name: it is not [DEFAULT].
        assert_eq!(entries("[default]\na=1")[0].0, "default");
        // Taken verbatim between the brackets.
        assert_eq!(entries("[ x ]\na=1")[0].0, " x ");
        // The first of `:` and `=` splits.
        assert_eq!(entries("[s]\nfoo:bar = x")[0].1, "foo");
        assert_eq!(entries("[s]\nfoo:bar = x")[0].2, "bar = x");
    }

    #[test]
    fn comments_only_at_the_start_of_a_line() {
        assert_eq!(
            entries("[s]\na = 1 # not a comment")[0].2,
            "1 # not a comment"
        );
        assert_eq!(entries("[s]\na = x ; y")[0].2, "x ; y");
    }

    #[test]
    fn quotes_are_stripped_when_they_match() {
        let values: Vec<String> = entries(
            "[s]\na = \"x y\"\nb = 'x'\nc = \"x'\nd = \"\ne = ''\nf = \" 4 \"\ng = \"é\"\nh = é\"",
        )
        .into_iter()
        .map(|(_, _, value, _)| value)
        .collect();
        assert_eq!(values, ["x y", "x", "\"x'", "", "", " 4 ", "é", "é\""]);
    }

    #[test]
    fn continuation_lines_join_with_newlines() {
        let text = "[s]\nurl = rabbit://a,\n  b,\n\tc/\n  # kept\nnext = 1\n";
        assert_eq!(
            entries(text),
            [
                row("s", "url", "rabbit://a,\nb,\nc/\n# kept", 2),
                row("s", "next", "1", 6)
            ]
        );
        // Only the first line loses its quotes, and only when they match on that line.
        assert_eq!(entries("[s]\na = \"x\"\n  \"y\"")[0].2, "x\n\"y\"");
        assert_eq!(entries("[s]\na = \"x\n  y\"")[0].2, "\"x\ny\"");
    }

    #[test]
    fn line_ends_and_whitespace_as_python_reads_them() {
        assert_eq!(
            entries("[s]\r\na = 1\r\nb = x\r  y\rc = 2\x1c\x0b "),
            [
                row("s", "a", "1", 2),
                row("s", "b", "x\ny", 3),
                row("s", "c", "2", 5)
            ]
        );
        // A whitespace-only line ends a value like an empty one.
        assert_eq!(
            error("[s]\na = 1\n   \n  x"),
            (4, "Unexpected continuation line")
        );
    }

    #[test]
    fn repeated_sections_and_keys_keep_every_value() {
        let file = parse("[s]\na = 1\n[t]\na = 9\n[s]\na = 2\n").unwrap();
        assert_eq!(file.entries.len(), 3);
        assert_eq!(
            file.last("s", "a").map(|e| (&*e.value, e.line)),
            Some(("2", 6))
        );
        assert_eq!(file.last("S", "a"), None);
        assert_eq!(file.last("s", "A"), None);
    }

    #[test]
    fn errors_as_oslo_config_words_them() {
        assert_eq!(error("  x"), (1, "Unexpected continuation line"));
        assert_eq!(error("[s]\n# c\n  x"), (3, "Unexpected continuation line"));
        assert_eq!(error("[s]\n[t]\n  x"), (3, "Unexpected continuation line"));
        assert_eq!(
            error("x = 1"),
            (1, "Section must be started before assignment")
        );
        assert_eq!(error("[s]\n[x"), (2, "Invalid section (must end with ])"));
        assert_eq!(error("[s] # c"), (1, "Invalid section (must end with ])"));
        assert_eq!(error("[]"), (1, "Empty section name"));
        assert_eq!(error("[s]\n= 1"), (2, "Key cannot be empty"));
        assert_eq!(error("[s]\nfoo"), (2, "No ':' or '=' found in assignment"));
        assert_eq!(
            error("\u{feff}[s]"),
            (1, "No ':' or '=' found in assignment")
        );
    }

    #[test]
    fn empty_and_odd_inputs() {
        assert_eq!(parse("").unwrap(), IniFile::default());
        assert_eq!(parse("\n\n# only comments\n").unwrap(), IniFile::default());
        assert_eq!(error("["), (1, "Invalid section (must end with ])"));
        assert_eq!(error("]"), (1, "No ':' or '=' found in assignment"));
        assert_eq!(entries("[é]\n'=\"")[0].1, "'");
        assert_eq!(entries("[s]\na=\"")[0].2, "");
    }
}
