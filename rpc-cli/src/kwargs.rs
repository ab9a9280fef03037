//! The `ARGS` of `call` and `cast`: one JSON object, or `key=value` pairs whose values
//! parse as JSON (Python's dialect, so `NaN` works) or else are strings.

use rpc_runtime::wire::{Args, RawJson, json};

/// Parses the words after the method into keyword arguments.
pub(crate) fn parse_kwargs(words: &[String]) -> Result<Args, String> {
    let mut args = Args::new();
    match words {
        [] => Ok(args),
        [only] if only.trim_start().starts_with('{') => {
            let object: Args = json::from_str(only)
                .map_err(|e| format!("ARGS is not a valid JSON object: {e}"))?;
            Ok(object)
        }
        pairs => {
            for pair in pairs {
                let (key, value) = pair.split_once('=').ok_or_else(|| {
                    format!("argument {pair:?} is neither a JSON object nor key=value")
                })?;
                if key.is_empty() {
                    return Err(format!("argument {pair:?} has an empty name"));
                }
                if args.get(key).is_some() {
                    return Err(format!("argument {key:?} is given twice"));
                }
                args.push(key, value_of(value));
            }
            Ok(args)
        }
    }
}

/// A value that parses as JSON is that JSON; anything else is a string.
fn value_of(text: &str) -> RawJson {
    RawJson::from_string(text.to_owned()).unwrap_or_else(|_| string_value(text))
}

fn string_value(text: &str) -> RawJson {
    let mut out = Vec::with_capacity(text.len() + 2);
    json::write_str(&mut out, text);
    // write_str only writes ASCII-escaped JSON, which is valid UTF-8 and valid JSON.
    RawJson::from_string(String::from_utf8_lossy(&out).into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(words: &[&str]) -> Result<String, String> {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let args = parse_kwargs(&words)?;
        Ok(json::to_string(&args).unwrap())
    }

    #[test]
    fn key_value_pairs_take_json_or_strings() {
        assert_eq!(
            rendered(&["a=2", "b=3", "name=foo", "f=1.5", "n=null", "l=[1, NaN]", "s=\"7\"", "e="]),
            Ok(r#"{"a": 2, "b": 3, "name": "foo", "f": 1.5, "n": null, "l": [1, NaN], "s": "7", "e": ""}"#.to_owned())
        );
        assert_eq!(
            rendered(&["u=héllo wörld"]),
            Ok(r#"{"u": "h\u00e9llo w\u00f6rld"}"#.to_owned())
        );
        assert_eq!(rendered(&["expr=a=b"]), Ok(r#"{"expr": "a=b"}"#.to_owned()));
    }

    #[test]
    fn one_json_object_is_taken_as_is() {
        assert_eq!(
            rendered(&[r#"{"b": 1, "a": [true]}"#]),
            Ok(r#"{"b": 1, "a": [true]}"#.to_owned())
        );
        assert_eq!(rendered(&[]), Ok("{}".to_owned()));
    }

    #[test]
    fn bad_arguments_are_clear_errors() {
        assert!(
            rendered(&["{not json"])
                .unwrap_err()
                .contains("JSON object")
        );
        assert!(rendered(&["justaword"]).unwrap_err().contains("key=value"));
        assert!(rendered(&["=1"]).unwrap_err().contains("empty name"));
        assert!(rendered(&["a=1", "a=2"]).unwrap_err().contains("twice"));
    }
}
