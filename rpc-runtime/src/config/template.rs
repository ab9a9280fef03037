//! The syntax of oslo.config's `$name` substitution (`ConfigOpts._substitute`): a value is a
//! Python `string.Template` with the identifier pattern `[_a-z][._a-z0-9]*` (any case), expanded
//! with `safe_substitute` after every `\$` has become `$$`:
//!
//! * `$$` (or `\$`) is a literal `$`;
//! * `$name` and `${name}` are replaced by the value of option `name`; `name` may be
//!   `group.option`;
//! * any other `$` (`$1`, `${`, a trailing `$`) is kept as it is.
//!
//! What a name resolves to is the caller's business (`resolve.rs`).

/// Expands the references in `value`, asking `lookup` for each name in order of appearance.
pub(crate) fn expand<E>(
    value: &str,
    mut lookup: impl FnMut(&str) -> Result<String, E>,
) -> Result<String, E> {
    if !value.contains('$') {
        return Ok(value.to_owned());
    }
    let value = value.replace("\\$", "$$");
    let mut out = String::with_capacity(value.len());
    let mut rest = value.as_str();
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = named(after) {
            out.push_str(&lookup(name)?);
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('{').and_then(braced) {
            out.push_str(&lookup(name)?);
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The names `value` refers to, in order (for diagnostics and tests).
#[cfg(test)]
pub(crate) fn references(value: &str) -> Vec<String> {
    let mut names = Vec::new();
    let _ = expand(value, |name| {
        names.push(name.to_owned());
        Ok::<_, ()>(String::new())
    });
    names
}

/// `[_a-z][._a-z0-9]*`, case-insensitively, at the start of `text`: the name and what follows.
fn named(text: &str) -> Option<(&str, &str)> {
    let starts = text.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic());
    if !starts {
        return None;
    }
    let end = text
        .find(|c: char| !(c == '_' || c == '.' || c.is_ascii_alphanumeric()))
        .unwrap_or(text.len());
    Some(text.split_at(end))
}

/// A name followed by `}`: the name and what follows the brace.
fn braced(text: &str) -> Option<(&str, &str)> {
    let (name, tail) = named(text)?;
    Some((name, tail.strip_prefix('}')?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_with(value: &str) -> String {
        expand(value, |name| Ok::<_, ()>(format!("<{name}>"))).unwrap()
    }

    #[test]
    fn references_and_escapes() {
        assert_eq!(expand_with("plain"), "plain");
        assert_eq!(expand_with("a$b/c"), "a<b>/c");
        assert_eq!(expand_with("${b}c"), "<b>c");
        assert_eq!(expand_with("$B_1.x-y"), "<B_1.x>-y");
        assert_eq!(expand_with("$grp.opt"), "<grp.opt>");
        assert_eq!(expand_with("p$$w"), "p$w");
        assert_eq!(expand_with(r"p\$w"), "p$w");
        assert_eq!(expand_with(r"p\\$w"), r"p\$w");
        assert_eq!(expand_with("$$$a"), "$<a>");
    }

    #[test]
    fn malformed_references_are_kept() {
        assert_eq!(expand_with("pa$!word"), "pa$!word");
        assert_eq!(expand_with("end$"), "end$");
        assert_eq!(expand_with("$1abc"), "$1abc");
        assert_eq!(expand_with("${a"), "${a");
        assert_eq!(expand_with("${ a }"), "${ a }");
        assert_eq!(expand_with("${}"), "${}");
        assert_eq!(expand_with("$é"), "$é");
    }

    #[test]
    fn lookup_errors_stop_the_expansion() {
        let result = expand("$a and $b", |name| match name {
            "a" => Ok("1".to_owned()),
            other => Err(other.to_owned()),
        });
        assert_eq!(result, Err("b".to_owned()));
        assert_eq!(references("$x ${y} $$z"), ["x", "y"]);
    }
}
